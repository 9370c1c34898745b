"""Learning points waiting for the admin's PointsAck, kept on disk.

A member who earns points while the broker is away must not lose them, even
if the kiosk restarts: each message is a file named by its event id until the
ack deletes it, and everything pending is sent again after a reconnect. The
admin deduplicates by event id.

Each file is written temp-file, fsync, rename (``kiosk.durable``). With a
``DiskWriter`` adds and acks run in order on its thread (an ack can never
overtake the add it answers), and the screen never waits for the disk.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from broker.messages import LearningPoints
from content.store import write_atomic

from .durable import DiskWriter

log = logging.getLogger(__name__)


class PointsOutbox:
    def __init__(self, directory: Path, writer: DiskWriter | None = None) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.writer = writer
        self._lock = threading.Lock()

    def add(self, message: LearningPoints) -> None:
        """Keep ``message`` until acked (queued on the writer if there is one)."""
        data = message.payload()
        path = self.dir / f"{message.event_id}.json"
        self._run(lambda: self._write(path, data))

    def _write(self, path: Path, data: bytes) -> None:
        with self._lock:
            write_atomic(path, data)

    def _run(self, job) -> None:
        if self.writer is None:
            job()
        else:
            self.writer.submit(job)

    def flush(self, timeout: float | None = 10.0) -> bool:
        return self.writer.flush(timeout) if self.writer is not None else True

    def pending(self) -> list[LearningPoints]:
        """Everything added and not acked, oldest first (waits for queued writes)."""
        self.flush()
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
        """Forget an acknowledged message now; True if it was there."""
        self.flush()
        return self._remove(event_id)

    def ack_later(self, event_id: str) -> None:
        """``ack`` for the UI thread: queued behind the writes, never waits."""
        self._run(lambda: self._remove(event_id))

    def _remove(self, event_id: str) -> bool:
        # Losing a deletion to a power cut only means one harmless resend: no fsync.
        path = self.dir / f"{event_id}.json"
        with self._lock:
            existed = path.exists()
            path.unlink(missing_ok=True)
        return existed
