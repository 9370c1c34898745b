"""Wall-clock deadlines that survive the device clock being set while they run.

An alert's expiry is a wall-clock time chosen by the admin. Once an endpoint
has received it, what matters is how long is left, and that is best counted on
the monotonic clock: when NTP, an operator or a dead RTC battery moves the wall
clock by hours, a takeover must neither vanish early nor stay on for hours.
Across a restart only the wall clock is left, so the deadline is re-derived
from it then (the best a device can do without a network time source).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock, derived once from a wall-clock time."""

    monotonic_at: float

    @classmethod
    def from_wall(cls, wall_at: float, *, wall_now: float, monotonic_now: float) -> "Deadline":
        return cls(monotonic_now + (wall_at - wall_now))

    def passed(self, monotonic_now: float) -> bool:
        return monotonic_now >= self.monotonic_at

    def remaining(self, monotonic_now: float) -> float:
        return max(0.0, self.monotonic_at - monotonic_now)
