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
from content.model import Manifest

log = logging.getLogger(__name__)


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

    def load_alert(self) -> EmergencyAlert | None:
        try:
            alert = EmergencyAlert.from_json(self.alert_file.read_bytes())
        except (OSError, ValueError):
            return None
        return alert if alert.active(time.time()) else None

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
