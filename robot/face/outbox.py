"""Check-ins that the admin has not acknowledged yet, kept on disk.

One JSON file per check-in, written atomically (temp file, fsync, rename), so
a power cut leaves either the whole check-in or none. A check-in leaves the
outbox only when its ``CheckInAck`` arrives; it is resent with the same
``checkin_id`` until then, and the admin stores each id once: delivered exactly
once even across restarts and broker outages.

The ledger remembers who was already checked in to which meeting, so a robot
restarted mid-meeting does not check the same member in again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from broker.messages import CheckIn, MessageError
from content.store import write_atomic

log = logging.getLogger(__name__)

LEDGER = "ledger.jsonl"
# The ledger keeps the newest entries by count, not by age: a wall clock that
# was wrong when an entry was written must not make it expire (or live forever).
LEDGER_KEEP_ENTRIES = 20_000


class CheckInOutbox:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.pending_dir = self.directory / "pending"
        self.pending_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._done: set[tuple[str, str]] = set()
        self._load_ledger()

    # -- ledger: once per member per meeting ----------------------------------------
    def _load_ledger(self) -> None:
        path = self.directory / LEDGER
        if not path.exists():
            return
        keep = []
        lines = path.read_text("utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
                key = (str(entry["meeting_id"]), str(entry["member_id"]))
            except (ValueError, KeyError, TypeError):
                log.warning("签到记录第 %d 行损坏，已跳过", number)
                continue
            keep.append((key, line))
        keep = keep[-LEDGER_KEEP_ENTRIES:]
        self._done.update(key for key, _ in keep)
        if len(keep) != len(lines):
            self._atomic_write(path, "".join(line + "\n" for _, line in keep).encode("utf-8"))

    def already_checked_in(self, meeting_id: str, member_id: str) -> bool:
        return (meeting_id, member_id) in self._done

    # -- pending check-ins --------------------------------------------------------
    def add(self, checkin: CheckIn) -> bool:
        """Record a new check-in; False (and nothing written) when the member is
        already checked in to that meeting."""
        key = (checkin.meeting_id, checkin.member_id)
        with self._lock:
            if key in self._done:
                return False
            self._atomic_write(self.pending_dir / f"{checkin.checkin_id}.json", checkin.payload())
            with open(self.directory / LEDGER, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"meeting_id": key[0], "member_id": key[1], "checkin_id": checkin.checkin_id,
                                     "ts": checkin.ts}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._done.add(key)
        return True

    def pending(self) -> list[CheckIn]:
        out = []
        for path in sorted(self.pending_dir.glob("*.json")):
            try:
                out.append(CheckIn.from_json(path.read_bytes()))
            except FileNotFoundError:
                continue  # acked meanwhile (acks arrive on another thread)
            except (OSError, MessageError) as exc:
                # Keep the bytes for an operator to look at, but stop resending them.
                log.warning("待发签到文件损坏，已移到 %s: %s", path.with_suffix(".bad").name, exc)
                try:
                    path.rename(path.with_suffix(".bad"))
                except FileNotFoundError:
                    pass
        return sorted(out, key=lambda c: c.ts)

    def ack(self, checkin_id: str) -> bool:
        """Remove an acknowledged check-in; False for an unknown or repeated ack."""
        if not checkin_id.replace("-", "").isalnum():
            return False
        try:
            (self.pending_dir / f"{checkin_id}.json").unlink()
            return True
        except FileNotFoundError:
            return False

    @staticmethod
    def _atomic_write(path: Path, data: bytes) -> None:
        write_atomic(path, data)
