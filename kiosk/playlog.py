"""Proof of play kept on disk until the admin acknowledges it.

Records accumulate in ``pending.jsonl``; ``seal()`` turns them into a batch
file with its own id, which is sent (again after every reconnect) until a
``ProofOfPlayAck`` with that id deletes it. The admin deduplicates by batch id,
so resending after a lost ack is harmless.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from broker.messages import PlayRecord, new_id

log = logging.getLogger(__name__)


class PlayLog:
    def __init__(self, directory: Path, batch_max: int = 200) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pending_file = self.dir / "pending.jsonl"
        self.batch_max = batch_max
        self._lock = threading.Lock()

    def record(self, record: PlayRecord) -> None:
        with self._lock, self.pending_file.open("a", encoding="utf-8") as fh:
            fh.write(record.model_dump_json() + "\n")

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
        with self._lock:
            records = self._read_pending()
            ids = []
            for start in range(0, len(records), self.batch_max):
                batch_id = new_id()
                chunk = records[start:start + self.batch_max]
                tmp = self.dir / f"batch-{batch_id}.tmp"
                tmp.write_text(json.dumps({"batch_id": batch_id, "records": [r.model_dump(mode="json") for r in chunk]}),
                               encoding="utf-8")
                tmp.replace(self.dir / f"batch-{batch_id}.json")
                ids.append(batch_id)
            self.pending_file.unlink(missing_ok=True)
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
