"""Telemetry is stored in batches.

Every endpoint sends telemetry every few seconds; a thousand of them make a
hundred messages a second. Only each device's newest sample matters (the live
list shows frames, CPU and memory *now*), so the bridge keeps the newest one
per device in memory and writes them all in one transaction per interval.
A commit per message would cost SQLite a hundred commits a second and
invalidate every cached list as often (admin/listcache.py).

Nothing that must not be lost goes through here: check-ins, points, proof of
play, acknowledgements and state reports are stored one by one, at once.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from broker import messages as m

FLUSH_INTERVAL_S = 1.0


class LatestTelemetry:
    """The newest sample per device since the last drain. Thread-safe."""

    def __init__(self) -> None:
        self._pending: dict[str, m.Telemetry] = {}
        self._lock = threading.Lock()

    def add(self, message: m.Telemetry) -> None:
        with self._lock:
            held = self._pending.get(message.device_id)
            if held is None or message.ts >= held.ts:
                self._pending[message.device_id] = message

    def drain(self) -> list[m.Telemetry]:
        with self._lock:
            batch, self._pending = list(self._pending.values()), {}
        return batch

    def __len__(self) -> int:
        return len(self._pending)


def store_batch(sessions: sessionmaker[Session], batch: list[m.Telemetry]) -> int:
    """Write a drained batch in one transaction; returns how many devices."""
    from admin import events

    if not batch:
        return 0
    with sessions() as session:
        for message in batch:
            events.on_telemetry(session, message)
        session.commit()
    return len(batch)
