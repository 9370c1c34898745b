"""Pure check-in rules: which meeting is open here, who is late, when a
recognition is confirmed, and the greeting. No camera, broker or clock reads:
times are passed in, so tests and clock jumps are easy to reason about.

Wall-clock time (which can jump when NTP corrects it) is used only for what is
about the calendar: the open meeting and lateness. Everything about "how long
ago did I see this face" uses a monotonic clock.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from content.model import DEFAULT_TZ, Meeting

_TZ = ZoneInfo(DEFAULT_TZ)


def _aware(value: dt.datetime) -> dt.datetime:
    # Meetings authored without a zone are local hall time.
    return value if value.tzinfo is not None else value.replace(tzinfo=_TZ)


def open_meeting(meetings: Iterable[Meeting], *, now: dt.datetime, device_id: str, place: str | None = None,
                 open_before: dt.timedelta = dt.timedelta(minutes=30)) -> Meeting | None:
    """The meeting this device checks in at ``now``: listed for the device (or
    held at its place), from ``open_before`` its start until its end. With
    several, the one whose start is nearest to now."""
    now = _aware(now)
    candidates = []
    for meeting in meetings:
        here = device_id in meeting.check_in_devices or (
            not meeting.check_in_devices and place is not None and meeting.place == place)
        if not here:
            continue
        starts, ends = _aware(meeting.starts_at), _aware(meeting.ends_at)
        if starts - open_before <= now <= ends:
            candidates.append((abs((starts - now).total_seconds()), meeting))
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]


def is_late(meeting: Meeting, at: dt.datetime, *, grace: dt.timedelta = dt.timedelta(0)) -> bool:
    return _aware(at) > _aware(meeting.starts_at) + grace


def greeting(template: str, *, name: str, meeting: Meeting) -> str:
    return template.format(name=name, meeting_type=meeting.meeting_type, title=meeting.title)


class Confirmer:
    """A member counts as recognised only after ``needed`` recognitions within
    ``window`` seconds (monotonic): one odd frame never checks anyone in."""

    def __init__(self, *, needed: int = 2, window: float = 3.0) -> None:
        self.needed = needed
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def observe(self, member_id: str, at_monotonic: float) -> bool:
        seen = self._seen.setdefault(member_id, deque())
        seen.append(at_monotonic)
        while seen and at_monotonic - seen[0] > self.window:
            seen.popleft()
        # A monotonic clock never goes back; drop anything that claims to be from the future.
        while seen and seen[0] > at_monotonic:
            seen.popleft()
        return len(seen) >= self.needed

    def forget(self, member_id: str) -> None:
        self._seen.pop(member_id, None)


class Cooldown:
    """Say something to the same person at most once per ``seconds`` (monotonic)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[str, float] = {}

    def ready(self, key: str, at_monotonic: float) -> bool:
        last = self._last.get(key)
        if last is not None and 0 <= at_monotonic - last < self.seconds:
            return False
        self._last[key] = at_monotonic
        return True
