"""Durable writes for the kiosk's outboxes, done off the drawing thread.

A proof-of-play record or a learning-points message that only sits in the page
cache is lost by a power cut, so each write is fsynced (a new file: temp file,
fsync, rename, fsync the directory; a log: append, fsync). An fsync can take
tens of milliseconds on an SD card, longer than a frame, and the screens record
from the UI thread; ``DiskWriter`` therefore runs the writes in order on one
background thread, and the UI thread only queues them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from content.store import fsync_dir, write_all

log = logging.getLogger(__name__)

# The writer thread ends when nothing came for this long and is started again
# by the next write, so short-lived apps (tests, scripts) leave no thread behind.
IDLE_EXIT_S = 5.0


def append_durably(path: Path, data: bytes) -> None:
    """Append ``data`` and fsync; a crash mid-write leaves at most a torn last
    line, which the reader drops."""
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


class DiskWriter:
    """Runs submitted jobs one after another on a background thread."""

    def __init__(self, name: str = "kiosk-disk", idle_exit_s: float = IDLE_EXIT_S) -> None:
        self.name = name
        self.idle_exit_s = idle_exit_s
        self._jobs: deque[Callable[[], None]] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        """Queue ``job``; returns at once (the lock is never held during a job)."""
        with self._cond:
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until everything submitted before this call is on disk."""
        if threading.current_thread() is self._thread:
            return True  # called from a job: earlier jobs are done already
        done = threading.Event()
        self.submit(done.set)
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._jobs:
                    self._cond.wait(self.idle_exit_s)
                if not self._jobs:
                    self._thread = None  # under the lock: the next submit starts a new one
                    return
                job = self._jobs.popleft()
            try:
                job()
            except Exception:  # one failed write must not stop the ones after it
                log.exception("durable write failed")
