"""What a device plays at a given moment: dayparting resolved as pure functions.

Semantics (also shown to editors in the admin):

- Every condition of a rule is checked on the *local* date and time in the
  schedule's timezone (Asia/Shanghai by default). A condition left empty
  (None) always holds.
- Dates are inclusive; weekdays are Monday=0 .. Sunday=6.
- ``time_from``/``time_to`` form the half-open window [from, to). A window
  whose end is before its start wraps past midnight (22:00-06:00 covers
  22:00-24:00 and 00:00-06:00 of the *same* local date; the date and weekday
  conditions are checked independently of the window). ``from == to`` means
  all day. Only one bound given: from that time on, or until that time.
- The matching rule with the highest priority wins; equal priorities go to the
  rule listed first. A rule whose playlist is missing is ignored. When nothing
  matches, the default playlist plays (or nothing, when there is none).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import DEFAULT_TZ, Manifest, Playlist, PlaylistEntry, Schedule, ScheduleRule

log = logging.getLogger(__name__)

_DAY = 24 * 3600 * 10**6  # microseconds in a day: the unit of time windows


@lru_cache(maxsize=32)
def zone_of(name: str | None) -> ZoneInfo:
    """The schedule's timezone; an unknown name falls back to Asia/Shanghai
    (logged once) rather than leaving the screens blank."""
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        log.error("schedule: unknown timezone %r, using %s", name, DEFAULT_TZ)
        return ZoneInfo(DEFAULT_TZ)


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("schedule resolution needs a timezone-aware datetime")
    return at


def local_time(schedule: Schedule, at: dt.datetime) -> dt.datetime:
    return _aware(at).astimezone(zone_of(schedule.timezone))


# -- one rule ---------------------------------------------------------------------

def _micros(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 10**6 + t.microsecond


def window_intervals(rule: ScheduleRule) -> list[tuple[int, int]]:
    """The rule's time window as half-open intervals of microseconds of the day."""
    start = None if rule.time_from is None else _micros(rule.time_from)
    end = None if rule.time_to is None else _micros(rule.time_to)
    if start is None and end is None:
        return [(0, _DAY)]
    if end is None:
        return [(start, _DAY)]
    if start is None:
        return [(0, end)]
    if start < end:
        return [(start, end)]
    if start > end:
        return [(start, _DAY), (0, end)]
    return [(0, _DAY)]


def in_window(rule: ScheduleRule, t: dt.time) -> bool:
    moment = _micros(t)
    return any(a <= moment < b for a, b in window_intervals(rule))


def rule_matches(rule: ScheduleRule, local: dt.datetime) -> bool:
    """Whether every condition of ``rule`` holds at this local date and time."""
    day = local.date()
    if rule.date_from is not None and day < rule.date_from:
        return False
    if rule.date_to is not None and day > rule.date_to:
        return False
    if rule.weekdays is not None and day.weekday() not in rule.weekdays:
        return False
    return in_window(rule, local.time())


# -- resolution -------------------------------------------------------------------

def active_rule(manifest: Manifest, at: dt.datetime) -> ScheduleRule | None:
    """The rule in force at ``at`` (None: the default playlist plays)."""
    local = local_time(manifest.schedule, at)
    playlist_ids = {p.id for p in manifest.playlists}
    best: ScheduleRule | None = None
    for rule in manifest.schedule.rules:
        if rule.playlist_id not in playlist_ids:
            continue
        # Strictly greater: on equal priority the earlier rule stays.
        if (best is None or rule.priority > best.priority) and rule_matches(rule, local):
            best = rule
    return best


def resolve_playlist(manifest: Manifest, at: dt.datetime) -> Playlist | None:
    """The playlist a device of this manifest's group plays at ``at``."""
    rule = active_rule(manifest, at)
    if rule is not None:
        return manifest.playlist(rule.playlist_id)
    return manifest.playlist(manifest.schedule.default_playlist_id)


def playing_at(manifest: Manifest, at: dt.datetime) -> list[PlaylistEntry]:
    """The entries of the resolved playlist whose items the manifest carries."""
    playlist = resolve_playlist(manifest, at)
    if playlist is None:
        return []
    present = {item.id for item in manifest.items}
    return [entry for entry in playlist.entries if entry.item_id in present]


# -- timeline (the admin's 7-day view) ------------------------------------------

@dataclass(frozen=True)
class Segment:
    """From ``start`` (inclusive) to ``end`` (exclusive) the same playlist plays.
    ``rule_id`` is None when the default loop plays; ``playlist_id`` is None
    when nothing plays."""

    start: dt.datetime
    end: dt.datetime
    playlist_id: str | None
    rule_id: str | None


def _boundaries(manifest: Manifest, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every instant in (start, end) where the resolution may change: local
    midnights (date and weekday conditions) and each rule's window edges."""
    zone = zone_of(manifest.schedule.timezone)
    edges = {dt.time(0)}
    for rule in manifest.schedule.rules:
        edges.update(t for t in (rule.time_from, rule.time_to) if t is not None)
    first = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    found: set[dt.datetime] = set()
    day = first
    while day <= last:
        candidates = []
        for edge in edges:
            # fold=1: the second occurrence of a wall time repeated when clocks go back.
            for fold in (0, 1):
                local = dt.datetime.combine(day, edge, tzinfo=zone).replace(fold=fold)
                candidates.append(local.astimezone(dt.timezone.utc))
        transition = _offset_change(zone, day)
        if transition is not None:
            candidates.append(transition)  # wall time jumps: a window edge may be skipped over
        found.update(c for c in candidates if start < c < end)
        day += dt.timedelta(days=1)
    return sorted(found)


def _offset_change(zone: ZoneInfo, day: dt.date) -> dt.datetime | None:
    """The UTC instant during ``day`` at which the zone's offset changes (DST), if any."""
    low = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc)
    high = low + dt.timedelta(hours=26)
    if low.astimezone(zone).utcoffset() == high.astimezone(zone).utcoffset():
        return None
    offset = low.astimezone(zone).utcoffset()
    # Offsets change on whole seconds: bisect down to one second.
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return high


def _state(manifest: Manifest, at: dt.datetime) -> tuple[str | None, str | None]:
    rule = active_rule(manifest, at)
    if rule is not None:
        return rule.playlist_id, rule.id
    default = manifest.playlist(manifest.schedule.default_playlist_id)
    return (default.id if default else None), None


def timeline(manifest: Manifest, start: dt.datetime, days: int = 7) -> list[Segment]:
    """Consecutive segments covering [start, start + days), each with what plays.

    Resolution is evaluated only at the instants where it can change, so a week
    costs a few dozen resolutions, not ten thousand minute steps.
    """
    if days <= 0:
        return []
    zone = zone_of(manifest.schedule.timezone)
    begin = _aware(start).astimezone(dt.timezone.utc)
    end = begin + dt.timedelta(days=days)
    segments: list[Segment] = []
    cut_points = [begin, *_boundaries(manifest, begin, end)]
    for cut in cut_points:
        state = _state(manifest, cut)
        if segments and (segments[-1].playlist_id, segments[-1].rule_id) == state:
            continue
        if segments:
            segments[-1] = Segment(segments[-1].start, cut.astimezone(zone), segments[-1].playlist_id,
                                   segments[-1].rule_id)
        segments.append(Segment(cut.astimezone(zone), end.astimezone(zone), *state))
    return segments


def next_change(manifest: Manifest, at: dt.datetime, horizon_days: int = 8) -> dt.datetime | None:
    """When what plays next changes after ``at`` (None within the horizon), so a
    player can sleep until then instead of polling."""
    segments = timeline(manifest, at, days=horizon_days)
    return segments[1].start if len(segments) > 1 else None


# -- conflicts (shown to editors) -----------------------------------------------

def _date_overlap(a: ScheduleRule, b: ScheduleRule) -> tuple[dt.date | None, dt.date | None] | None:
    lows = [d for d in (a.date_from, b.date_from) if d is not None]
    highs = [d for d in (a.date_to, b.date_to) if d is not None]
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    if low is not None and high is not None and low > high:
        return None
    return low, high


def _weekdays_possible(a: ScheduleRule, b: ScheduleRule, low: dt.date | None, high: dt.date | None) -> bool:
    days = set(range(7))
    for rule in (a, b):
        if rule.weekdays is not None:
            days &= set(rule.weekdays)
    if low is not None and high is not None and (high - low).days < 6:
        days &= {(low + dt.timedelta(days=n)).weekday() for n in range((high - low).days + 1)}
    return bool(days)


def _windows_overlap(a: ScheduleRule, b: ScheduleRule) -> bool:
    return any(x0 < y1 and y0 < x1 for x0, x1 in window_intervals(a) for y0, y1 in window_intervals(b))


def rules_overlap(a: ScheduleRule, b: ScheduleRule) -> bool:
    """Whether some local moment satisfies both rules."""
    dates = _date_overlap(a, b)
    if dates is None:
        return False
    return _weekdays_possible(a, b, *dates) and _windows_overlap(a, b)


def conflicts(schedule: Schedule) -> list[tuple[str, str]]:
    """Pairs of rule ids with equal priority that can be in force at the same
    time: the earlier one silently wins, which an editor should know."""
    return [(a.id, b.id) for a, b in combinations(schedule.rules, 2)
            if a.priority == b.priority and rules_overlap(a, b)]
