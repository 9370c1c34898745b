"""Learning points waiting for the admin's PointsAck, kept on disk.

A member who earns points while the broker is away must not lose them, even
if the kiosk restarts: each message is a file named by its event id until the
ack deletes it, and everything pending is sent again after a reconnect. The
admin deduplicates by event id.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from broker.messages import LearningPoints

log = logging.getLogger(__name__)


class PointsOutbox:
    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def add(self, message: LearningPoints) -> None:
        with self._lock:
            tmp = self.dir / f"{message.event_id}.tmp"
            tmp.write_bytes(message.payload())
            tmp.replace(self.dir / f"{message.event_id}.json")

    def pending(self) -> list[LearningPoints]:
        out = []
        with self._lock:
            for path in sorted(self.dir.glob("*.json"), key=lambda p: p.stat().st_mtime):
                try:
                    out.append(LearningPoints.from_json(path.read_bytes()))
                except (OSError, ValueError) as exc:
                    log.warning("outbox: unreadable %s removed: %s", path.name, exc)
                    path.unlink(missing_ok=True)
        return out

    def ack(self, event_id: str) -> bool:
        path = self.dir / f"{event_id}.json"
        with self._lock:
            existed = path.exists()
            path.unlink(missing_ok=True)
        return existed
