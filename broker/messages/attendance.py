"""Meeting attendance (三会一课签到) and learning points from kiosks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Message, new_id


class CheckIn(Message):
    """A member checked in at a meeting. The admin stores it and acks by id;
    the device keeps it on disk until acked, so delivery is exactly-once at the
    admin (deduplicated by ``checkin_id``)."""

    TOPIC = "device/{device_id}/checkin"

    device_id: str
    checkin_id: str = Field(default_factory=new_id)
    meeting_id: str
    member_id: str
    member_name: str
    method: Literal["face", "manual", "card"] = "face"
    score: float | None = None
    late: bool = False


class CheckInAck(Message):
    TOPIC = "device/{device_id}/checkin/ack"

    device_id: str
    checkin_id: str
    accepted: bool = True
    reason: str | None = None


class AttendanceBoard(Message):
    """Admin → a group: who is checked in to a meeting, for the live boards.

    Retained so a kiosk that starts mid-meeting shows the board at once."""

    TOPIC = "group/{group}/attendance/{meeting_id}"
    RETAIN = True

    group: str
    meeting_id: str
    meeting_title: str
    expected: int = Field(ge=0)
    present: list[dict[str, str | float | bool]] = Field(default_factory=list)


class LearningPoints(Message):
    """Kiosk → admin: a member earned points (quiz, lesson)."""

    TOPIC = "device/{device_id}/points"

    device_id: str
    event_id: str = Field(default_factory=new_id)
    member_no: str
    points: int = Field(ge=0, le=1000)
    reason: str
    item_id: str | None = None
    # The PIN the member typed at the kiosk; the admin checks it against the
    # member's stored hash before counting the points and never stores it.
    pin: str | None = Field(default=None, min_length=4, max_length=12, pattern=r"^[0-9]+$")


class PointsAck(Message):
    TOPIC = "device/{device_id}/points/ack"

    device_id: str
    event_id: str
    accepted: bool = True
    reason: str | None = None
    total: int | None = None


class ExhibitView(Message):
    """Hall → admin: dwell time at an exhibit, or tour completion (analytics)."""

    TOPIC = "device/{device_id}/analytics"

    device_id: str
    event: Literal["dwell", "tour_completed", "tour_abandoned"]
    exhibit_id: str | None = None
    dwell_s: float | None = Field(default=None, ge=0)
    stops_seen: int | None = None
