"""Proof of play kept on disk until the admin acknowledges it.

Records accumulate in ``pending.jsonl``; ``seal()`` turns them into a batch
file with its own id, which is sent (again after every reconnect) until a
``ProofOfPlayAck`` with that id deletes it. The admin deduplicates by batch id,
so resending after a lost ack is harmless.

Every write is fsynced (``kiosk.durable``): a record appended to the log, a
batch written to a temp file and renamed. With a ``DiskWriter`` the records
are written on its thread, so the screen that recorded them never waits for
the disk; ``seal`` and ``pending_records`` first wait for queued records.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from broker.messages import PlayRecord, new_id
from content.store import fsync_dir, write_atomic

from .durable import DiskWriter, append_durably

log = logging.getLogger(__name__)


class PlayLog:
    def __init__(self, directory: Path, batch_max: int = 200, writer: DiskWriter | None = None) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pending_file = self.dir / "pending.jsonl"
        self.batch_max = batch_max
        self.writer = writer
        self._lock = threading.Lock()

    def record(self, record: PlayRecord) -> None:
        """Append a record (queued on the writer if there is one, else now)."""
        line = (record.model_dump_json() + "\n").encode("utf-8")
        if self.writer is None:
            self._append(line)
        else:
            self.writer.submit(lambda: self._append(line))

    def _append(self, line: bytes) -> None:
        with self._lock:
            append_durably(self.pending_file, line)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait for records still queued on the writer."""
        return self.writer.flush(timeout) if self.writer is not None else True

    def pending_records(self) -> list[PlayRecord]:
        """Recorded and not yet sealed into a batch."""
        self.flush()
        with self._lock:
            return self._read_pending()

    def _read_pending(self) -> list[PlayRecord]:
        if not self.pending_file.exists():
            return []
        records = []
        for line in self.pending_file.read_text(encoding="utf-8").splitlines():
            try:
                records.append(PlayRecord.model_validate_json(line))
            except ValueError:
                log.warning("playlog: dropping unreadable record line")
        return records

    def seal(self) -> list[str]:
        """Move pending records into batch files; returns the new batch ids."""
        self.flush()
        with self._lock:
            records = self._read_pending()
            ids = []
            for start in range(0, len(records), self.batch_max):
                batch_id = new_id()
                chunk = records[start:start + self.batch_max]
                data = json.dumps({"batch_id": batch_id, "records": [r.model_dump(mode="json") for r in chunk]})
                write_atomic(self.dir / f"batch-{batch_id}.json", data.encode("utf-8"))
                ids.append(batch_id)
            if self.pending_file.exists():
                # Only once the batches are durable may the records leave the log.
                self.pending_file.unlink()
                fsync_dir(self.dir)
            return ids

    def batches(self) -> list[tuple[str, list[PlayRecord]]]:
        """Unacknowledged batches, oldest first."""
        out = []
        for path in sorted(self.dir.glob("batch-*.json"), key=lambda p: p.stat().st_mtime):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                out.append((data["batch_id"], [PlayRecord.model_validate(r) for r in data["records"]]))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("playlog: unreadable batch %s removed: %s", path.name, exc)
                path.unlink(missing_ok=True)
        return out

    def ack(self, batch_id: str) -> bool:
        path = self.dir / f"batch-{batch_id}.json"
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed
