"""三会一课: which meetings are today, this week, and in progress."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def _local(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    # Naive datetimes from the content are local hall time.
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def today(meetings, now: dt.datetime, tz: ZoneInfo) -> list:
    day = _local(now, tz).date()
    return sorted((m for m in meetings if _local(m.starts_at, tz).date() == day), key=lambda m: m.starts_at)


def this_week(meetings, now: dt.datetime, tz: ZoneInfo) -> list:
    first, last = week_bounds(_local(now, tz).date())
    return sorted((m for m in meetings if first <= _local(m.starts_at, tz).date() <= last),
                  key=lambda m: _local(m.starts_at, tz))


def in_progress(meetings, now: dt.datetime, tz: ZoneInfo) -> list:
    current = _local(now, tz)
    return [m for m in meetings if _local(m.starts_at, tz) <= current < _local(m.ends_at, tz)]


def next_meeting(meetings, branch_id: str, now: dt.datetime, tz: ZoneInfo):
    current = _local(now, tz)
    upcoming = [m for m in meetings if m.branch_id == branch_id and _local(m.ends_at, tz) > current]
    return min(upcoming, key=lambda m: _local(m.starts_at, tz), default=None)


def by_branch(meetings) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for meeting in meetings:
        grouped.setdefault(meeting.branch_id, []).append(meeting)
    return grouped


WEEKDAYS = "一二三四五六日"


def when_text(meeting, tz: ZoneInfo) -> str:
    start, end = _local(meeting.starts_at, tz), _local(meeting.ends_at, tz)
    return f"{start.month}月{start.day}日 周{WEEKDAYS[start.weekday()]} {start:%H:%M}–{end:%H:%M}"
