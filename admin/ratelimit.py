"""Guess limiting that is not tied to one user row: failed logins per client
address (password spraying across many accounts) and learning-point PIN
guesses per member and per device (the kiosk submits PINs over MQTT, where
the per-account login back-off does not apply).

Pure logic with an injectable clock; the state lives in the running admin
(``AdminContext.extras``), never in a module global. It is in memory: a
restart forgets it, which a guesser cannot trigger from outside.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from admin.security import login_delay_s

Clock = Callable[[], float]


@dataclass
class Backoff:
    """Consecutive failures per key: ``free`` cost nothing, then the key waits
    2, 4, 8 ... seconds (capped) before the next try. A success clears it.
    At most ``max_keys`` keys are kept (least recently failed dropped first),
    so a flood of made-up keys cannot exhaust memory."""

    free: int
    cap_s: int
    max_keys: int = 10_000
    clock: Clock = time.monotonic
    _state: OrderedDict[str, tuple[int, float]] = field(default_factory=OrderedDict)

    def wait_s(self, key: str) -> int:
        """Seconds ``key`` must still wait (0: it may try now)."""
        found = self._state.get(key)
        if found is None:
            return 0
        remaining = found[1] - self.clock()
        return math.ceil(remaining) if remaining > 0 else 0

    def failed(self, key: str) -> int:
        """Record a failure; return the wait it now costs."""
        failures = self._state.pop(key, (0, 0.0))[0] + 1
        delay = login_delay_s(failures, free=self.free, cap=self.cap_s)
        self._state[key] = (failures, self.clock() + delay)
        while len(self._state) > self.max_keys:
            self._state.popitem(last=False)
        return delay

    def succeeded(self, key: str) -> None:
        self._state.pop(key, None)

    def failures(self, key: str) -> int:
        return self._state.get(key, (0, 0.0))[0]


@dataclass
class SlidingWindow:
    """At most ``limit`` events per key in the last ``window_s`` seconds."""

    limit: int
    window_s: float
    max_keys: int = 10_000
    clock: Clock = time.monotonic
    _events: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def _recent(self, key: str) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        horizon = self.clock() - self.window_s
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def wait_s(self, key: str) -> int:
        events = self._recent(key)
        if len(events) < self.limit:
            return 0
        return max(1, math.ceil(events[0] + self.window_s - self.clock()))

    def hit(self, key: str) -> None:
        events = self._recent(key)
        self._events[key] = events
        self._events.move_to_end(key)
        events.append(self.clock())
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)


@dataclass
class PinGuard:
    """Learning-point PIN guesses: a back-off per member (a targeted guess at
    one member's PIN) and a window per device (one kiosk spraying a common
    PIN over many members; a window, so the typos of a busy kiosk over weeks
    never add up to a block)."""

    per_member: Backoff
    per_device: SlidingWindow
    # The fleet bus may store messages from worker threads.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings, clock: Clock = time.monotonic) -> "PinGuard":  # noqa: ANN001
        return cls(per_member=Backoff(free=settings.pin_free_failures, cap_s=settings.pin_max_delay_s, clock=clock),
                   per_device=SlidingWindow(limit=settings.pin_device_failures_per_window,
                                            window_s=settings.pin_device_window_s, clock=clock))

    def wait_s(self, *, member_no: str, device_id: str) -> int:
        with self._lock:
            return max(self.per_member.wait_s(member_no), self.per_device.wait_s(device_id))

    def failed(self, *, member_no: str, device_id: str) -> None:
        with self._lock:
            self.per_member.failed(member_no)
            self.per_device.hit(device_id)

    def succeeded(self, *, member_no: str, device_id: str) -> None:  # noqa: ARG002
        with self._lock:
            self.per_member.succeeded(member_no)
