"""Fleet messages: availability, desired and reported state, commands, telemetry."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import Expiring, Message, new_id

DeviceKind = Literal["kiosk", "vrhall", "robot", "admin", "broker", "bench"]
SHA256 = r"^[0-9a-f]{64}$"


class Availability(Message):
    """Retained ``online``; the broker publishes the retained ``offline`` will."""

    TOPIC = "device/{device_id}/availability"
    RETAIN = True

    device_id: str
    kind: DeviceKind
    state: Literal["online", "offline"]
    groups: list[str] = Field(default_factory=list)


class DesiredState(Message):
    """Retained per device group: which signed manifest the group should play."""

    TOPIC = "group/{group}/desired"
    RETAIN = True

    group: str
    version: int = Field(ge=0)
    manifest_sha256: str = Field(pattern=SHA256)
    manifest_url: str = Field(min_length=1)
    signature: str = Field(min_length=1, description="base64 Ed25519 signature of the manifest bytes")
    published_at: float


class ReportedState(Message):
    """Retained per device: the manifest it has applied (or why it could not)."""

    TOPIC = "device/{device_id}/reported"
    RETAIN = True

    device_id: str
    kind: DeviceKind
    group: str | None = None
    applied_version: int | None = None
    applied_sha256: str | None = None
    status: Literal["applied", "fetching", "failed", "empty"] = "applied"
    error: str | None = None


CommandName = Literal["reload", "screenshot", "show_item", "restart", "ping"]


class DeviceCommand(Message, Expiring):
    """A request to one device; answered by ``CommandReply`` with the same request id."""

    TOPIC = "device/{device_id}/command"

    device_id: str
    request_id: str = Field(default_factory=new_id)
    command: CommandName
    args: dict[str, Any] = Field(default_factory=dict)


class CommandReply(Message):
    TOPIC = "device/{device_id}/reply"

    device_id: str
    request_id: str
    ok: bool
    result: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class Telemetry(Message):
    TOPIC = "device/{device_id}/telemetry"

    device_id: str
    kind: DeviceKind
    fps: float | None = None
    frame_p99_ms: float | None = None
    cpu_percent: float | None = None
    rss_mb: float | None = None
    screen: str | None = None
    applied_version: int | None = None


class PlayRecord(BaseModel):
    """One item shown on one screen (a part of ``ProofOfPlay``, not a topic)."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    version_sha256: str | None = None
    started_at: float
    duration_s: float = Field(ge=0)
    screen: str | None = None


class ProofOfPlay(Message):
    """A batch of play records; the admin dedupes by ``batch_id`` and acks."""

    TOPIC = "device/{device_id}/play"

    device_id: str
    batch_id: str = Field(default_factory=new_id)
    records: list[PlayRecord]


class ProofOfPlayAck(Message):
    TOPIC = "device/{device_id}/play/ack"

    device_id: str
    batch_id: str


class DeviceError(Message):
    """Hermes-style error report: what went wrong, where, for operators."""

    TOPIC = "device/{device_id}/error"

    device_id: str
    error: str
    context: str | None = None
