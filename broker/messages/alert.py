"""Emergency alerts: retained per group with expiry, acknowledged per device."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Expiring, Message, new_id

# Every endpoint subscribes to this group besides its own ones, so an alert
# "to all" is one retained message.
ALL_GROUPS = "all"


class EmergencyAlert(Message, Expiring):
    """Retained. ``cancelled=True`` (or an empty retained payload) clears it."""

    TOPIC = "group/{group}/alert"
    RETAIN = True

    group: str
    alert_id: str = Field(default_factory=new_id)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=4000)
    level: Literal["info", "warning", "critical"] = "critical"
    cancelled: bool = False

    def active(self, at: float | None = None) -> bool:
        return not self.cancelled and not self.expired(at)


class AlertAck(Message):
    TOPIC = "device/{device_id}/alert/ack"

    device_id: str
    alert_id: str
    state: Literal["shown", "cleared"] = "shown"
