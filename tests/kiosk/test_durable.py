"""The kiosk's outboxes (proof of play, learning points) are written durably and
off the drawing thread: records survive a SIGKILLed process, the caller never
does the write itself, and every write is fsynced before it counts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from broker.messages import LearningPoints, PlayRecord
from kiosk.durable import DiskWriter
from kiosk.outbox import PointsOutbox
from kiosk.playlog import PlayLog

ROOT = Path(__file__).resolve().parents[2]

# Records as fast as it can, and prints "durable <i> <event_id>" from the
# writer thread once record i and points message i are written.
WRITER_CHILD = r"""
import sys, time
from pathlib import Path
from broker.messages import LearningPoints, PlayRecord
from kiosk.durable import DiskWriter
from kiosk.outbox import PointsOutbox
from kiosk.playlog import PlayLog

root = Path(sys.argv[1])
writer = DiskWriter()
playlog = PlayLog(root / "playlog", writer=writer)
outbox = PointsOutbox(root / "outbox", writer=writer)
for i in range(5000):
    playlog.record(PlayRecord(item_id=f"item-{i}", started_at=time.time(), duration_s=1.0, screen="news"))
    message = LearningPoints(site_id="s", device_id="k", member_no="100001", pin="1234", points=1,
                             reason=f"lesson {i}", item_id=f"item-{i}")
    outbox.add(message)
    writer.submit(lambda i=i, e=message.event_id: print("durable", i, e, flush=True))
    time.sleep(0.002)
time.sleep(60)
"""

READER_CHILD = r"""
import json, sys
from pathlib import Path
from kiosk.outbox import PointsOutbox
from kiosk.playlog import PlayLog

root = Path(sys.argv[1])
print(json.dumps({"played": [r.item_id for r in PlayLog(root / "playlog").pending_records()],
                  "points": [m.event_id for m in PointsOutbox(root / "outbox").pending()]}))
"""


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_records_survive_sigkill_right_after_recording(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", WRITER_CHILD, str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    reported: list[tuple[int, str]] = []
    try:
        deadline = time.monotonic() + 60
        while len(reported) < 25 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            _, index, event_id = line.split()
            reported.append((int(index), event_id))
        # Killed while it keeps recording: the kill may land in the middle of a write.
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    assert len(reported) == 25, child.stderr.read()[-2000:]
    assert child.returncode == -signal.SIGKILL

    fresh = subprocess.run([sys.executable, "-c", READER_CHILD, str(tmp_path)], capture_output=True, text=True,
                           env=_env(), cwd=ROOT, timeout=60)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    found = json.loads(fresh.stdout.strip().splitlines()[-1])
    played = found["played"]
    # Everything reported written is there, in order, without holes or duplicates.
    assert played[:25] == [f"item-{i}" for i, _ in reported]
    assert played == [f"item-{i}" for i in range(len(played))]
    assert {event_id for _, event_id in reported} <= set(found["points"])
    assert len(found["points"]) in (len(played), len(played) - 1)  # at most the one being written is missing


def test_the_caller_never_writes_itself(tmp_path):
    """With a writer, ``record``/``add``/``ack_later`` only queue: while the
    writer thread is held up, they return and nothing is on disk yet."""
    writer = DiskWriter()
    playlog = PlayLog(tmp_path / "playlog", writer=writer)
    outbox = PointsOutbox(tmp_path / "outbox", writer=writer)
    release = threading.Event()
    writer.submit(lambda: release.wait(30))
    kept = LearningPoints(site_id="s", device_id="k", member_no="100001", pin="1234", points=2, reason="kept")
    acked = LearningPoints(site_id="s", device_id="k", member_no="100001", pin="1234", points=3, reason="acked")
    playlog.record(PlayRecord(item_id="n1", started_at=1.0, duration_s=2.0))
    outbox.add(kept)
    outbox.add(acked)
    outbox.ack_later(acked.event_id)  # an ack that arrives before its add is written waits behind it
    assert not playlog.pending_file.exists() and list(outbox.dir.iterdir()) == []
    release.set()
    assert writer.flush(10)
    assert [r.item_id for r in playlog.pending_records()] == ["n1"]
    assert [m.event_id for m in outbox.pending()] == [kept.event_id]


def test_every_write_is_fsynced_before_it_counts(tmp_path, monkeypatch):
    """The order of system calls: data fsynced before the rename, the
    directory fsynced after it; the log fsynced on every append."""
    calls: list[tuple[str, str]] = []
    real_fsync, real_replace, real_unlink = os.fsync, os.replace, Path.unlink

    def fsync(fd):
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        calls.append(("replace", str(dst)))
        return real_replace(src, dst)

    def unlink(self, missing_ok=False):
        calls.append(("unlink", str(self)))
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(Path, "unlink", unlink)
    playlog = PlayLog(tmp_path / "playlog")
    outbox = PointsOutbox(tmp_path / "outbox")

    playlog.record(PlayRecord(item_id="n1", started_at=1.0, duration_s=2.0))
    playlog.record(PlayRecord(item_id="n2", started_at=2.0, duration_s=2.0))
    log_file = str(playlog.pending_file)
    assert calls.count(("fsync", log_file)) == 2
    assert ("fsync", str(playlog.dir)) in calls  # the new log's directory entry

    calls.clear()
    message = LearningPoints(site_id="s", device_id="k", member_no="100001", pin="1234", points=1, reason="r")
    outbox.add(message)
    final = str(outbox.dir / f"{message.event_id}.json")
    tmp = str(outbox.dir / f".{message.event_id}.json.tmp")
    assert calls == [("fsync", tmp), ("replace", final), ("fsync", str(outbox.dir))]

    calls.clear()
    (batch_id,) = playlog.seal()
    batch = str(playlog.dir / f"batch-{batch_id}.json")
    assert calls == [("fsync", str(playlog.dir / f".batch-{batch_id}.json.tmp")), ("replace", batch),
                     ("fsync", str(playlog.dir)), ("unlink", log_file), ("fsync", str(playlog.dir))]
