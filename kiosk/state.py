"""What the screens show, fed by outside events; no drawing and no network here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.messages import AttendanceBoard, CheckIn, DialogueTurn, EmergencyAlert, Message, PointsAck
from content.clock import Deadline
from content.model import Manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShownAlert:
    """An alert with the monotonic deadline it runs to (None: until cancelled).

    The wall clock is read once, when the alert arrives (``arrived``); from then
    on only the monotonic clock counts, the same rule as ``content.endpoint``,
    so setting the device clock neither ends a takeover nor prolongs it.
    """

    alert: EmergencyAlert
    deadline: Deadline | None

    @classmethod
    def arrived(cls, alert: EmergencyAlert, *, wall_now: float, monotonic_now: float) -> "ShownAlert":
        deadline = (Deadline.from_wall(alert.expires_at, wall_now=wall_now, monotonic_now=monotonic_now)
                    if alert.expires_at is not None else None)
        return cls(alert, deadline)

    def active(self, monotonic_now: float) -> bool:
        return not self.alert.cancelled and (self.deadline is None or not self.deadline.passed(monotonic_now))


@dataclass
class Member:
    member_no: str
    pin: str


@dataclass
class KioskState:
    device_id: str
    site_id: str
    tz: ZoneInfo
    data_dir: Path
    manifest: Manifest | None = None
    online: bool = False
    alert: EmergencyAlert | None = None
    boards: dict[str, AttendanceBoard] = field(default_factory=dict)
    checkins: dict[str, dict[str, CheckIn]] = field(default_factory=dict)
    dialogue: list[DialogueTurn] = field(default_factory=list)
    dialogue_age: float = 0.0
    member: Member | None = None
    points_acks: list[PointsAck] = field(default_factory=list)
    publish: Callable[[Message], None] | None = None
    clock: Callable[[], dt.datetime] | None = None
    # The deadline of ``alert``; set together with it by ``show_alert``.
    alert_deadline: Deadline | None = None
    # Injectable so tests can set the device clock; alert expiry runs on the monotonic one.
    wall_time: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic

    def now(self) -> dt.datetime:
        return self.clock() if self.clock else dt.datetime.now(self.tz)

    def send(self, message: Message) -> bool:
        """Hand a message to the network thread (it queues while offline)."""
        if self.publish is None:
            log.info("offline (no network): not sent %s", type(message).__name__)
            return False
        try:
            self.publish(message)
            return True
        except Exception:  # the network layer must never take the screen down
            log.exception("publish failed")
            return False

    # -- emergency alert, persisted so a restart still shows it while valid ------
    def receive_alert(self, alert: EmergencyAlert | ShownAlert) -> ShownAlert:
        """An alert as it arrives: from the Endpoint with its deadline already
        counted, or bare (offline use, tests), counted from now."""
        if isinstance(alert, ShownAlert):
            return alert
        return ShownAlert.arrived(alert, wall_now=self.wall_time(), monotonic_now=self.monotonic())

    def show_alert(self, shown: ShownAlert | None) -> None:
        self.alert = shown.alert if shown is not None else None
        self.alert_deadline = shown.deadline if shown is not None else None

    def alert_active(self) -> bool:
        return self.alert is not None and ShownAlert(self.alert, self.alert_deadline).active(self.monotonic())

    @property
    def alert_file(self) -> Path:
        return self.data_dir / "alert.json"

    def save_alert(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if self.alert is None:
                self.alert_file.unlink(missing_ok=True)
            else:
                self.alert_file.write_bytes(self.alert.payload())
        except OSError:
            log.exception("cannot persist alert state")

    def restore_alert(self) -> None:
        """Show the alert saved before a restart if it is still valid.

        The monotonic clock starts again at boot, so only the wall clock is
        left to say how much time remains: a restart with a wrong clock can end
        or prolong the takeover (the same rule as ``content.endpoint``). From
        here on the remaining time is counted on the monotonic clock again.
        """
        try:
            alert = EmergencyAlert.from_json(self.alert_file.read_bytes())
        except (OSError, ValueError):
            return
        shown = self.receive_alert(alert)
        if shown.active(self.monotonic()):
            self.show_alert(shown)

    # -- attendance ---------------------------------------------------------------
    def present_names(self, meeting_id: str) -> list[str]:
        names: list[str] = []
        board = self.boards.get(meeting_id)
        if board is not None:
            for row in board.present:
                name = str(row.get("member_name") or row.get("name") or row.get("member_id") or "")
                if name and name not in names:
                    names.append(name)
        for checkin in self.checkins.get(meeting_id, {}).values():
            if checkin.member_name not in names:
                names.append(checkin.member_name)
        return names

    def record_attendance(self, message: AttendanceBoard | CheckIn) -> None:
        if isinstance(message, AttendanceBoard):
            self.boards[message.meeting_id] = message
        elif isinstance(message, CheckIn):
            self.checkins.setdefault(message.meeting_id, {})[message.member_id] = message


def load_manifest_file(path: Path) -> Manifest:
    return Manifest.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
