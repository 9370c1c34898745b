"""The bridge between the MQTT thread and the Panda3D thread: guide actions
go into a thread-safe queue that the hall's frame task drains."""

from __future__ import annotations

import queue

from broker.messages import DialogueTurn, GuideAction


def subscribe_guide(client, hall_id: str, inbox: "queue.Queue[object]") -> str:
    """Subscribe ``client`` (a HallClient) to this hall's guide actions."""

    async def on_guide_action(action: GuideAction) -> None:
        inbox.put(action)

    return client.subscribe(GuideAction, on_guide_action, hall_id=hall_id)


def subscribe_dialogue(client, inbox: "queue.Queue[object]") -> str:
    """Every robot's dialogue turns, shown as subtitles in the hall."""

    async def on_dialogue_turn(turn: DialogueTurn) -> None:
        inbox.put(turn)

    return client.subscribe(DialogueTurn, on_dialogue_turn)
