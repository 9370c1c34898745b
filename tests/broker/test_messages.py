"""Every message class: topic round trip, JSON round trip, bad payloads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from broker.messages import (
    AlertAck, AttendanceBoard, Availability, CheckIn, CheckInAck, CommandReply, DesiredState, DeviceCommand,
    DeviceError, DialogueSession, DialogueTurn, EmergencyAlert, ExhibitView, GuideAction, GuideStatus,
    LearningPoints, Message, MessageError, PlayRecord, PointsAck, ProofOfPlay, ProofOfPlayAck, ReportedState,
    Telemetry, message_class_for,
)

SHA = "ab" * 32
SITE = {"site_id": "site-1"}

SAMPLES: dict[type[Message], dict] = {
    Availability: dict(device_id="kiosk-1", kind="kiosk", state="online", groups=["lobby"]),
    DesiredState: dict(group="lobby", version=7, manifest_sha256=SHA, manifest_url=f"http://a/media/{SHA}",
                       signature="c2ln", published_at=1.5),
    ReportedState: dict(device_id="kiosk-1", kind="kiosk", group="lobby", applied_version=7, applied_sha256=SHA),
    DeviceCommand: dict(device_id="kiosk-1", command="screenshot", args={"scale": 0.5}, expires_at=99.0),
    CommandReply: dict(device_id="kiosk-1", request_id="r1", ok=True, result={"url": "/x.png"}),
    Telemetry: dict(device_id="kiosk-1", kind="kiosk", fps=60.0, frame_p99_ms=9.5, cpu_percent=1.0, rss_mb=90.0),
    ProofOfPlay: dict(device_id="kiosk-1", records=[PlayRecord(item_id="n1", started_at=1.0, duration_s=10)]),
    ProofOfPlayAck: dict(device_id="kiosk-1", batch_id="b1"),
    DeviceError: dict(device_id="kiosk-1", error="媒体校验失败", context="apply v7"),
    EmergencyAlert: dict(group="all", title="紧急通知", body="请有序疏散", expires_at=2e9),
    AlertAck: dict(device_id="kiosk-1", alert_id="a1"),
    DialogueTurn: dict(robot_id="robot-1", session_id="s1", role="robot", text="欢迎参观", intent="greeting"),
    DialogueSession: dict(robot_id="robot-1", event="ended", end_reason="timeout"),
    GuideAction: dict(hall_id="hall-1", action="goto", exhibit_id="zunyi", requested_by="robot-1"),
    GuideStatus: dict(hall_id="hall-1", request_id="r1", state="failed", reason="未知展品"),
    CheckIn: dict(device_id="robot-1", meeting_id="m1", member_id="p1", member_name="张三", score=0.31),
    CheckInAck: dict(device_id="robot-1", checkin_id="c1"),
    AttendanceBoard: dict(group="lobby", meeting_id="m1", meeting_title="支部党员大会", expected=12,
                          present=[{"member_id": "p1", "name": "张三", "late": False}]),
    LearningPoints: dict(device_id="kiosk-1", member_no="1001", points=10, reason="答题"),
    PointsAck: dict(device_id="kiosk-1", event_id="e1", total=120),
    ExhibitView: dict(device_id="hall-1", event="dwell", exhibit_id="zunyi", dwell_s=12.5),
}


def test_every_message_class_has_a_sample():
    assert set(Message.registry) == set(SAMPLES), "add a sample for each new message class"


def test_topics_are_unique_and_versioned():
    topics = [cls.TOPIC for cls in Message.registry]
    assert len(topics) == len(set(topics))
    for cls in Message.registry:
        assert cls.subscription().startswith("hall/v1/")


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_round_trip(cls):
    message = cls(**SITE, **SAMPLES[cls])
    topic = message.own_topic()
    assert cls.is_topic(topic)
    assert message_class_for(topic) is cls
    assert cls.from_json(message.payload(), topic=topic) == message
    assert cls.from_json(message.payload()) == message
    # only this class claims the topic
    assert [c for c in Message.registry if c.is_topic(topic)] == [cls]


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
@pytest.mark.parametrize("payload", [b"", b"not json", b"[1,2]", b"\xff\xfe", b'{"site_id": ""}', b"{}"])
def test_bad_payload_raises_message_error(cls, payload):
    with pytest.raises(MessageError):
        cls.from_json(payload)


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_wrong_field_type_is_rejected_with_the_field_name(cls):
    data = cls(**SITE, **SAMPLES[cls]).to_dict()
    data["ts"] = "yesterday"
    with pytest.raises(MessageError, match="ts"):
        cls.from_json(json.dumps(data))


def test_topic_builder_refuses_misspelt_and_missing_arguments():
    with pytest.raises(TypeError):
        DesiredState.topic(grop="lobby")
    with pytest.raises(TypeError):
        DesiredState.topic()
    with pytest.raises(MessageError):
        DesiredState.topic(group="lobby/#")
    assert DesiredState.topic(group="+") == "hall/v1/group/+/desired"


def test_payload_cannot_claim_another_device_than_its_topic():
    message = ReportedState(**SITE, **SAMPLES[ReportedState])
    with pytest.raises(MessageError, match="disagrees"):
        ReportedState.from_json(message.payload(), topic=ReportedState.topic(device_id="kiosk-2"))


def test_expiry_and_alert_activity():
    command = DeviceCommand(**SITE, device_id="k", command="reload", expires_at=100.0)
    assert command.expired(at=100.0) and not command.expired(at=99.9)
    alert = EmergencyAlert(**SITE, group="all", title="t", expires_at=100.0)
    assert alert.active(at=50) and not alert.active(at=150)
    assert not alert.model_copy(update={"cancelled": True}).active(at=50)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzzed_bytes_never_escape_as_other_errors(data):
    for cls in Message.registry:
        try:
            cls.from_json(data)
        except MessageError:
            pass


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_topic_matching_never_raises(topic):
    for cls in Message.registry:
        assert cls.is_topic(topic) in (True, False)
