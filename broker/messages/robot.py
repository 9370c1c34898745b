"""Robot dialogue, sessions and guidance to the 3D hall."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Expiring, Message, new_id


class DialogueTurn(Message):
    """One question or answer, so kiosks and the hall can show subtitles."""

    TOPIC = "robot/{robot_id}/dialogue"

    robot_id: str
    session_id: str
    role: Literal["visitor", "robot"]
    text: str = Field(max_length=4000)
    intent: str | None = None
    answer_id: str | None = None
    exhibit_id: str | None = None
    score: float | None = None


SessionEvent = Literal["started", "continued", "ended"]
EndReason = Literal["nominal", "timeout", "not_understood", "error", "abort"]


class DialogueSession(Message):
    """Hermes-style session lifecycle; a session may move between robot and kiosk."""

    TOPIC = "robot/{robot_id}/session"

    robot_id: str
    session_id: str = Field(default_factory=new_id)
    event: SessionEvent
    end_reason: EndReason | None = None
    moved_to: str | None = Field(default=None, description="device id the session continues on")


GuideVerb = Literal["goto", "tour", "stop", "pause", "resume", "skip"]


class GuideAction(Message, Expiring):
    """Robot (or kiosk) → hall: go to an exhibit, run a tour, control it."""

    TOPIC = "vrhall/{hall_id}/guide"

    hall_id: str
    request_id: str = Field(default_factory=new_id)
    action: GuideVerb
    exhibit_id: str | None = None
    route: list[str] | None = None
    requested_by: str | None = None
    session_id: str | None = None


GuideState = Literal["accepted", "moving", "arrived", "cancelled", "failed", "completed"]


class GuideStatus(Message):
    """Hall → everyone: the lifecycle of a guide action."""

    TOPIC = "vrhall/{hall_id}/guide/status"

    hall_id: str
    request_id: str
    state: GuideState
    exhibit_id: str | None = None
    exhibit_title: str | None = None
    reason: str | None = None
    stop_index: int | None = None
    stops_total: int | None = None
