"""End to end over a real broker (amqtt on loopback): text in → dialogue events
and a guide action → a simulated hall answers with its lifecycle over the
broker → the robot speaks the progress (real espeak-ng synthesis, no speaker)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from broker.client import HallClient
from broker.messages import DialogueSession, DialogueTurn, GuideAction, GuideStatus
from robot.service import RobotService
from robot.tts import EspeakTts, SilentSink, Speaker

REPO = Path(__file__).resolve().parents[2]


class SimulatedHall:
    """Answers every guide action like the 3D hall: accepted → moving → arrived
    (a tour: a moving/arrived pair per stop, then completed); stop → cancelled."""

    def __init__(self, settings, hall_id: str = "hall-1") -> None:
        self.hall_id = hall_id
        self.client = HallClient(settings, client_id=hall_id, kind="vrhall")
        self.actions: list[GuideAction] = []
        self.titles = {"zunyi": "遵义会议", "nanhu": "南湖红船", "yida": "中共一大会址"}

    async def on_action(self, action: GuideAction):
        self.actions.append(action)
        base = dict(site_id=action.site_id, hall_id=self.hall_id, request_id=action.request_id)
        if action.action == "stop":
            for earlier in self.actions[:-1]:
                yield GuideStatus(**base | {"request_id": earlier.request_id}, state="cancelled")
            return
        yield GuideStatus(**base, state="accepted", exhibit_id=action.exhibit_id)
        stops = [action.exhibit_id] if action.action == "goto" else list(action.route or [])[:2]
        for index, exhibit_id in enumerate(stops):
            extra = {} if action.action == "goto" else {"stop_index": index, "stops_total": len(stops)}
            yield GuideStatus(**base, state="moving", exhibit_id=exhibit_id, **extra)
            await asyncio.sleep(0.05)
            yield GuideStatus(**base, state="arrived", exhibit_id=exhibit_id, exhibit_title=self.titles.get(exhibit_id),
                              **extra)
        if action.action == "tour":
            yield GuideStatus(**base, state="completed")

    async def start(self) -> None:
        self.client.subscribe(GuideAction, self.on_action, hall_id=self.hall_id)
        await self.client.start()
        assert await self.client.wait_connected(10)


class Observer:
    """A kiosk showing subtitles: records dialogue turns and session events."""

    def __init__(self, settings) -> None:
        self.client = HallClient(settings, client_id="kiosk-1", kind="kiosk")
        self.turns: list[DialogueTurn] = []
        self.sessions: list[DialogueSession] = []

    async def start(self) -> None:
        self.client.subscribe(DialogueTurn, self._turn)
        self.client.subscribe(DialogueSession, self._session)
        await self.client.start()
        assert await self.client.wait_connected(10)

    async def _turn(self, m):
        self.turns.append(m)

    async def _session(self, m):
        self.sessions.append(m)


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def tts():
    engine = EspeakTts()
    if engine.problem():
        pytest.skip(engine.problem())
    return engine


def run_scenario(mqtt_broker, kb, tts, scenario):
    async def main():
        settings = mqtt_broker.settings()
        hall, observer = SimulatedHall(settings), Observer(settings)
        await hall.start()
        await observer.start()
        started: list[str] = []
        speaker = Speaker(tts, sink=SilentSink(realtime=False),
                          on_event=lambda e: started.append(e.text) if e.kind == "start" else None)
        client = HallClient(settings, client_id="robot-1", kind="robot")
        robot = RobotService(site_id="test-site", device_id="robot-1", client=client, kb=kb, speaker=speaker)
        robot.subscribe()
        await client.start()
        assert await client.wait_connected(10)
        try:
            await scenario(robot, hall, observer, speaker, started)
        finally:
            speaker.close()
            for c in (client, hall.client, observer.client):
                await c.stop()

    asyncio.run(main())


def test_goto_over_the_broker_speaks_progress_from_the_hall(mqtt_broker, kb, tts):
    async def scenario(robot, hall, observer, speaker, started):
        reply = await robot.handle_text("带我去遵义会议")
        assert reply.intent == "goto"
        await wait_for(lambda: robot.idle() and any(t.startswith("已到达") for t in robot.spoken))
        await wait_for(lambda: speaker.wait_idle(0) and any(t.startswith("已到达") for t in started))
        [action] = hall.actions
        assert (action.action, action.exhibit_id, action.requested_by) == ("goto", "zunyi", "robot-1")
        assert action.session_id == robot.session.session_id and not action.expired()
        assert robot.spoken == ["好的，请跟我来，我带您去看“遵义会议”。", "正在带您前往“遵义会议”。",
                                "已到达“遵义会议”。"]
        # Every spoken sentence really went through espeak (the speaker reports its first audio).
        assert started == robot.spoken
        await wait_for(lambda: len(observer.turns) >= 4)
        assert [(t.role, t.text) for t in observer.turns][:2] == [("visitor", "带我去遵义会议"),
                                                                 ("robot", robot.spoken[0])]
        assert {t.session_id for t in observer.turns} == {action.session_id}
        assert observer.turns[1].intent == "goto" and observer.turns[1].exhibit_id == "zunyi"
        await wait_for(lambda: observer.sessions)
        assert observer.sessions[0].event == "started"

    run_scenario(mqtt_broker, kb, tts, scenario)


def test_tour_then_stop(mqtt_broker, kb, tts):
    async def scenario(robot, hall, observer, speaker, started):
        await robot.handle_text("开始导览")
        await wait_for(lambda: any("参观结束" in t for t in robot.spoken))
        assert hall.actions[0].action == "tour" and hall.actions[0].route[:2] == ["yida", "nanhu"]
        assert "正在带您前往第1站，“中共一大会址”。" in robot.spoken
        assert "已到达“南湖红船”。" in robot.spoken
        assert robot.idle()
        # A stop with nothing under way does not bother the hall.
        await robot.handle_text("停")
        await asyncio.sleep(0.2)
        assert [a.action for a in hall.actions] == ["tour"]

    run_scenario(mqtt_broker, kb, tts, scenario)


def test_faq_unknown_exhibit_and_session_lifecycle(mqtt_broker, kb, tts):
    async def scenario(robot, hall, observer, speaker, started):
        answer = await robot.handle_text("遵义会议有什么意义")
        assert answer.answer_id == "zunyi_meaning"
        unknown = await robot.handle_text("带我去看看兵马俑")
        assert "没有找到" in unknown.text and unknown.candidates
        session_id = robot.session.session_id
        await robot.handle_text("谢谢，再见")
        assert robot.session is None
        await robot.handle_text("你好")
        robot.expire_session(now=time.monotonic() + 3600)
        await wait_for(lambda: len(observer.sessions) >= 6)
        events = [(s.event, s.end_reason) for s in observer.sessions]
        assert events == [("started", None), ("continued", None), ("continued", None), ("ended", "nominal"),
                          ("started", None), ("ended", "timeout")]
        assert observer.sessions[3].session_id == session_id != observer.sessions[4].session_id
        assert hall.actions == []  # neither a question nor an unknown exhibit moves the hall

    run_scenario(mqtt_broker, kb, tts, scenario)


def test_session_handed_over_to_a_kiosk_and_back(mqtt_broker, kb, tts):
    async def scenario(robot, hall, observer, speaker, started):
        await robot.handle_text("你好")
        first = robot.session.session_id
        robot.hand_over("kiosk-1")
        kiosk = observer.client
        kiosk.publish(DialogueSession(site_id="test-site", robot_id="kiosk-1", session_id=first, event="ended",
                                      end_reason="nominal", moved_to="robot-1"))
        await wait_for(lambda: robot.session is not None)
        assert robot.session.session_id == first
        await wait_for(lambda: any(s.moved_to == "kiosk-1" for s in observer.sessions))

    run_scenario(mqtt_broker, kb, tts, scenario)


def test_hall_robot_command_over_the_broker(mqtt_broker, kb_path, tmp_path):
    """The real console command: `hall robot --device-id … --kb … --text …`."""
    settings = mqtt_broker.settings()
    ready = threading.Event()
    hall_actions: list[GuideAction] = []

    def run_hall(stop: threading.Event):
        async def main():
            hall = SimulatedHall(settings)
            await hall.start()
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            hall_actions.extend(hall.actions)
            await hall.client.stop()
        asyncio.run(main())

    stop = threading.Event()
    thread = threading.Thread(target=run_hall, args=(stop,), daemon=True)
    thread.start()
    assert ready.wait(15)
    env = dict(os.environ, HALL_MQTT_HOST="127.0.0.1", HALL_MQTT_PORT=str(mqtt_broker.port), HALL_SITE_ID="test-site",
               HALL_DATA_DIR=str(tmp_path), HALL_ENV_FILE=str(tmp_path / "none.env"))
    try:
        done = subprocess.run([sys.executable, "-m", "broker.cli", "robot", "--device-id", "robot-9", "--kb",
                               str(kb_path), "--no-speak", "--text", "请带我去南湖红船"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
    finally:
        stop.set()
        thread.join(10)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == ["机器人：好的，请跟我来，我带您去看“南湖红船”。", "机器人：正在带您前往“南湖红船”。",
                     "机器人：已到达“南湖红船”。"]
    assert [(a.action, a.exhibit_id, a.requested_by) for a in hall_actions] == [("goto", "nanhu", "robot-9")]


def test_a_new_question_interrupts_the_answer_being_spoken(kb, tts):
    from robot.service import NullClient

    events = []
    speaker = Speaker(tts, sink=SilentSink(realtime=True), on_event=events.append)
    robot = RobotService(site_id="s", device_id="robot-1", client=NullClient(), kb=kb, speaker=speaker)

    async def main():
        await robot.handle_text("入党誓词的内容是什么")  # a long answer, several seconds of speech
        await wait_for(lambda: any(e.kind == "start" for e in events))
        await robot.handle_text("停")
        await wait_for(lambda: any(e.kind == "interrupted" for e in events))
        await wait_for(lambda: speaker.wait_idle(0))

    try:
        asyncio.run(main())
    finally:
        speaker.close()
    kinds = [(e.kind, e.text) for e in events]
    assert kinds[0][0] == "start" and kinds[1][0] == "interrupted"
    # What follows is only the short acknowledgement of "停", never the rest of the oath.
    assert [t for k, t in kinds[2:] if k == "start"] == ["好的。"]


def test_stop_while_guiding_asks_the_hall_to_stop(kb):
    from robot.service import NullClient

    client = NullClient()
    robot = RobotService(site_id="s", device_id="robot-1", client=client, kb=kb, hall_id="hall-7")

    async def main():
        await robot.handle_text("带我去遵义会议")
        await robot.handle_text("停下")

    asyncio.run(main())
    actions = [m for m in client.published if isinstance(m, GuideAction)]
    assert [(a.action, a.hall_id, a.exhibit_id) for a in actions] == [("goto", "hall-7", "zunyi"),
                                                                       ("stop", "hall-7", None)]
    assert actions[1].session_id == actions[0].session_id
