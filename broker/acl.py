"""Who may read and write which topics: a pure function of the device list.

Both the embedded broker (amqtt's ACL plugin) and the generated Mosquitto ACL
file are derived from ``topic_rules``, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .messages import (
    ALL_GROUPS,
    ROOT,
    AlertAck,
    AttendanceBoard,
    Availability,
    CheckIn,
    CheckInAck,
    CommandReply,
    DesiredState,
    DeviceCommand,
    DeviceError,
    DialogueSession,
    DialogueTurn,
    EmergencyAlert,
    ExhibitView,
    GuideAction,
    GuideStatus,
    LearningPoints,
    PointsAck,
    ProofOfPlay,
    ProofOfPlayAck,
    ReportedState,
    Telemetry,
)

SERVICE_KINDS = ("admin", "bench")


@dataclass(frozen=True)
class TopicRules:
    read: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)


def topic_rules(*, device_id: str, kind: str, groups: list[str] | tuple[str, ...]) -> TopicRules:
    """Read: its own and its groups' topics. Write: its own state, replies, events."""
    if kind in SERVICE_KINDS:
        everything = f"{ROOT}/#"
        return TopicRules(read=[everything], write=[everything])

    own = {"device_id": device_id}
    read = [DeviceCommand.topic(**own), ProofOfPlayAck.topic(**own), CheckInAck.topic(**own),
            PointsAck.topic(**own)]
    for group in [*groups, ALL_GROUPS]:
        read.append(EmergencyAlert.topic(group=group))
    for group in groups:
        read += [DesiredState.topic(group=group), AttendanceBoard.topic(group=group, meeting_id="+")]
    write = [Availability.topic(**own), ReportedState.topic(**own), CommandReply.topic(**own),
             Telemetry.topic(**own), ProofOfPlay.topic(**own), DeviceError.topic(**own), AlertAck.topic(**own)]

    if kind == "kiosk":
        read += [DialogueTurn.subscription(), GuideStatus.subscription()]
        write += [LearningPoints.topic(**own), CheckIn.topic(**own), DialogueSession.topic(robot_id=device_id)]
    elif kind == "vrhall":
        read += [GuideAction.topic(hall_id=device_id), DialogueTurn.subscription()]
        write += [GuideStatus.topic(hall_id=device_id), ExhibitView.topic(**own)]
    elif kind == "robot":
        read += [GuideStatus.subscription(), DialogueSession.subscription()]
        write += [DialogueTurn.topic(robot_id=device_id), DialogueSession.topic(robot_id=device_id),
                  GuideAction.subscription(), CheckIn.topic(**own)]
    return TopicRules(read=read, write=write)
