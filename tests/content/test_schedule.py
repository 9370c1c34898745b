"""Dayparting resolution: examples plus hypothesis properties against
brute-force references written differently from the implementation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from content.model import Exhibit, Manifest, Playlist, PlaylistEntry, Schedule, ScheduleRule
from content.schedule import (
    conflicts,
    next_change,
    playing_at,
    resolve_playlist,
    rule_matches,
    timeline,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAYLISTS = ["morning", "lunch", "evening", "loop"]


def _manifest(rules: list[ScheduleRule], default: str | None = "loop", tz: str = "Asia/Shanghai") -> Manifest:
    items = [Exhibit(id=f"ex-{n}", title=f"展品{n}") for n in range(3)]
    playlists = [Playlist(id=pid, name=pid, entries=[PlaylistEntry(item_id="ex-0"), PlaylistEntry(item_id="gone")])
                 for pid in PLAYLISTS]
    return Manifest(site_id="s", group="lobby", version=1, created_at=0, items=items, playlists=playlists,
                    schedule=Schedule(timezone=tz, default_playlist_id=default, rules=rules))


# -- examples ---------------------------------------------------------------------

def test_dayparting_example() -> None:
    manifest = _manifest([
        ScheduleRule(id="am", playlist_id="morning", time_from=dt.time(8), time_to=dt.time(11, 30)),
        ScheduleRule(id="noon", playlist_id="lunch", weekdays=[0, 1, 2, 3, 4], time_from=dt.time(11, 30),
                     time_to=dt.time(13, 30), priority=1),
        ScheduleRule(id="july", playlist_id="evening", date_from=dt.date(2026, 7, 1), date_to=dt.date(2026, 7, 1),
                     priority=5),
    ])
    monday = dt.datetime(2026, 6, 29, tzinfo=SHANGHAI)
    assert resolve_playlist(manifest, monday.replace(hour=9)).id == "morning"
    assert resolve_playlist(manifest, monday.replace(hour=11, minute=30)).id == "lunch"
    assert resolve_playlist(manifest, monday.replace(hour=13, minute=30)).id == "loop"
    saturday_noon = dt.datetime(2026, 7, 4, 12, tzinfo=SHANGHAI)
    assert resolve_playlist(manifest, saturday_noon).id == "loop"
    # 7月1日 (a Wednesday) the day-long high-priority rule wins over everything.
    assert resolve_playlist(manifest, dt.datetime(2026, 7, 1, 12, tzinfo=SHANGHAI)).id == "evening"
    assert resolve_playlist(manifest, dt.datetime(2026, 7, 2, 0, tzinfo=SHANGHAI)).id == "loop"


def test_time_is_converted_to_the_schedule_timezone() -> None:
    manifest = _manifest([ScheduleRule(id="am", playlist_id="morning", time_from=dt.time(8), time_to=dt.time(9))])
    # 00:30 UTC is 08:30 in Shanghai.
    assert resolve_playlist(manifest, dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.timezone.utc)).id == "morning"
    # The same instant in a Berlin-scheduled manifest is 01:30: the default loop.
    berlin = _manifest(manifest.schedule.rules, tz="Europe/Berlin")
    assert resolve_playlist(berlin, dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.timezone.utc)).id == "loop"


def test_naive_datetime_is_refused() -> None:
    import pytest
    with pytest.raises(ValueError):
        resolve_playlist(_manifest([]), dt.datetime(2026, 1, 1))


def test_missing_playlists_and_no_default() -> None:
    manifest = _manifest([ScheduleRule(id="ghost", playlist_id="nowhere", priority=99)], default=None)
    assert resolve_playlist(manifest, dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)) is None
    assert playing_at(manifest, dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)) == []
    assert timeline(manifest, dt.datetime(2026, 1, 1, tzinfo=SHANGHAI), days=2)[0].playlist_id is None


def test_playing_at_skips_entries_of_missing_items() -> None:
    entries = playing_at(_manifest([]), dt.datetime(2026, 1, 1, tzinfo=SHANGHAI))
    assert [e.item_id for e in entries] == ["ex-0"]


def test_unknown_timezone_falls_back_to_shanghai() -> None:
    manifest = _manifest([ScheduleRule(id="am", playlist_id="morning", time_from=dt.time(8), time_to=dt.time(9))],
                         tz="Mars/Olympus")
    assert resolve_playlist(manifest, dt.datetime(2026, 3, 2, 8, 15, tzinfo=SHANGHAI)).id == "morning"


def test_timeline_and_next_change_example() -> None:
    manifest = _manifest([
        ScheduleRule(id="am", playlist_id="morning", time_from=dt.time(8), time_to=dt.time(11, 30)),
        ScheduleRule(id="night", playlist_id="evening", time_from=dt.time(22), time_to=dt.time(6)),
    ])
    start = dt.datetime(2026, 6, 29, 7, 0, tzinfo=SHANGHAI)
    segments = timeline(manifest, start, days=1)
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M"), s.playlist_id, s.rule_id) for s in segments] == [
        ("07:00", "08:00", "loop", None),
        ("08:00", "11:30", "morning", "am"),
        ("11:30", "22:00", "loop", None),
        ("22:00", "06:00", "evening", "night"),
        ("06:00", "07:00", "loop", None),
    ]
    assert next_change(manifest, start) == dt.datetime(2026, 6, 29, 8, 0, tzinfo=SHANGHAI)
    assert next_change(_manifest([]), start) is None


def test_conflicts_example() -> None:
    rules = [
        ScheduleRule(id="a", playlist_id="morning", weekdays=[0], time_from=dt.time(8), time_to=dt.time(10)),
        ScheduleRule(id="b", playlist_id="lunch", weekdays=[0, 1], time_from=dt.time(9), time_to=dt.time(12)),
        ScheduleRule(id="c", playlist_id="lunch", weekdays=[1], time_from=dt.time(8), time_to=dt.time(10)),
        ScheduleRule(id="d", playlist_id="lunch", priority=3),
        # 2026-06-27 is a Saturday: a weekend-only range never meets a Monday rule.
        ScheduleRule(id="e", playlist_id="lunch", weekdays=[0], date_from=dt.date(2026, 6, 27),
                     date_to=dt.date(2026, 6, 28)),
    ]
    assert conflicts(Schedule(rules=rules)) == [("a", "b"), ("b", "c")]


# -- properties -------------------------------------------------------------------

BASE_DAY = dt.date(2026, 6, 1)  # a Monday
HALF_HOUR = dt.timedelta(minutes=30)


def _times() -> st.SearchStrategy[dt.time | None]:
    return st.one_of(st.none(), st.builds(lambda n: dt.time(n // 2, 30 * (n % 2)), st.integers(0, 47)))


@st.composite
def rules_strategy(draw: st.DrawFn, max_rules: int = 5) -> list[ScheduleRule]:
    count = draw(st.integers(0, max_rules))
    rules = []
    for n in range(count):
        start = draw(st.one_of(st.none(), st.integers(0, 20)))
        length = draw(st.integers(0, 10))
        rules.append(ScheduleRule(
            id=f"r{n}",
            playlist_id=draw(st.sampled_from(PLAYLISTS + ["missing"])),
            priority=draw(st.integers(0, 2)),
            date_from=None if start is None else BASE_DAY + dt.timedelta(days=start),
            date_to=draw(st.one_of(st.none(), st.just(BASE_DAY + dt.timedelta(days=(start or 0) + length)))),
            weekdays=draw(st.one_of(st.none(), st.lists(st.integers(0, 6), max_size=7, unique=True))),
            time_from=draw(_times()),
            time_to=draw(_times()),
        ))
    return rules


def _minutes_covered(rule: ScheduleRule) -> set[int]:
    """Reference window: walk forward minute by minute from the start until the
    end is reached (the other way of reading "a window that may wrap")."""
    begin = 0 if rule.time_from is None else rule.time_from.hour * 60 + rule.time_from.minute
    if rule.time_to is None:
        return set(range(begin, 1440))
    stop = rule.time_to.hour * 60 + rule.time_to.minute
    if rule.time_from is None:
        return set(range(0, stop))
    covered, minute = set(), begin
    while True:
        covered.add(minute)
        minute = (minute + 1) % 1440
        if minute == stop:
            return covered


def _reference(rules: list[ScheduleRule], local: dt.datetime, default: str | None) -> tuple[str | None, str | None]:
    matching = []
    for index, rule in enumerate(rules):
        if rule.playlist_id not in PLAYLISTS:
            continue
        in_dates = (rule.date_from or dt.date.min) <= local.date() <= (rule.date_to or dt.date.max)
        in_days = rule.weekdays is None or local.weekday() in rule.weekdays
        if in_dates and in_days and local.hour * 60 + local.minute in _minutes_covered(rule):
            matching.append((-rule.priority, index, rule))
    if matching:
        rule = min(matching, key=lambda m: (m[0], m[1]))[2]
        return rule.playlist_id, rule.id
    return default, None


instants = st.builds(lambda d, m: dt.datetime.combine(BASE_DAY + dt.timedelta(days=d), dt.time(m // 60, m % 60),
                                                      tzinfo=SHANGHAI),
                     st.integers(-2, 35), st.integers(0, 1439))


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy(), at=instants, default=st.sampled_from(["loop", None]))
def test_resolution_equals_brute_force_reference(rules, at, default) -> None:
    manifest = _manifest(rules, default=default)
    expected_playlist, _ = _reference(rules, at, default)
    playlist = resolve_playlist(manifest, at)
    assert (playlist.id if playlist else None) == expected_playlist
    # The same instant expressed in UTC resolves the same way.
    again = resolve_playlist(manifest, at.astimezone(dt.timezone.utc))
    assert again == playlist


@given(at=instants, rule_id=st.text(min_size=1, max_size=5))
def test_rule_without_conditions_always_matches(at, rule_id) -> None:
    assert rule_matches(ScheduleRule(id=rule_id, playlist_id="x"), at)


@given(start=st.integers(0, 1439), end=st.integers(0, 1439), at=st.integers(0, 1439))
def test_wrap_around_window(start, end, at) -> None:
    rule = ScheduleRule(id="w", playlist_id="x", time_from=dt.time(start // 60, start % 60),
                        time_to=dt.time(end // 60, end % 60))
    local = dt.datetime.combine(BASE_DAY, dt.time(at // 60, at % 60))
    if start < end:
        expected = start <= at < end
    elif start > end:
        expected = not (end <= at < start)
    else:
        expected = True
    assert rule_matches(rule, local) is expected


@settings(max_examples=60, deadline=None)
@given(rules=rules_strategy(max_rules=4), day=st.integers(-1, 25), minute=st.integers(0, 47))
def test_timeline_matches_stepping_and_is_contiguous(rules, day, minute) -> None:
    manifest = _manifest(rules)
    start = dt.datetime.combine(BASE_DAY + dt.timedelta(days=day), dt.time(minute // 2, 30 * (minute % 2)),
                                tzinfo=SHANGHAI)
    segments = timeline(manifest, start, days=2)
    assert segments[0].start == start
    assert segments[-1].end == start + dt.timedelta(days=2)
    for before, after in zip(segments, segments[1:]):
        assert before.end == after.start
        assert before.start < before.end
        assert (before.playlist_id, before.rule_id) != (after.playlist_id, after.rule_id)
    # Every half hour (the rules' granularity) lies in the segment that resolution gives.
    at, index = start, 0
    while at < segments[-1].end:
        while not segments[index].start <= at < segments[index].end:
            index += 1
        assert (segments[index].playlist_id, segments[index].rule_id) == _reference(rules, at, "loop")
        at += HALF_HOUR


@settings(max_examples=100, deadline=None)
@given(rules=rules_strategy(max_rules=4))
def test_conflicts_are_exactly_the_pairs_that_meet(rules) -> None:
    # All dates lie within BASE_DAY .. +30 days, or are open: stepping through
    # a window that covers every weekday before, inside and after the ranges
    # finds every possible meeting.
    found = set(conflicts(Schedule(rules=rules)))
    met = set()
    at = dt.datetime.combine(BASE_DAY - dt.timedelta(days=8), dt.time(0))
    end = dt.datetime.combine(BASE_DAY + dt.timedelta(days=40), dt.time(0))
    while at < end:
        active = [r for r in rules if rule_matches(r, at)]
        met.update((a.id, b.id) for i, a in enumerate(active) for b in active[i + 1:] if a.priority == b.priority)
        at += HALF_HOUR
    assert found == met


@st.composite
def daily_rules(draw: st.DrawFn) -> list[ScheduleRule]:
    return [ScheduleRule(id=f"r{n}", playlist_id=draw(st.sampled_from(PLAYLISTS)), priority=draw(st.integers(0, 2)),
                         weekdays=draw(st.one_of(st.none(), st.lists(st.integers(0, 6), max_size=7, unique=True))),
                         time_from=draw(_times()), time_to=draw(_times()))
            for n in range(draw(st.integers(1, 4)))]


@settings(max_examples=40, deadline=None)
@given(rules=daily_rules(), switch=st.sampled_from([dt.date(2026, 3, 29), dt.date(2026, 10, 25)]),
       hours_before=st.integers(0, 30))
def test_timeline_is_right_across_daylight_saving_changes(rules, switch, hours_before) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    manifest = _manifest(rules, tz="Europe/Berlin")
    start = (dt.datetime.combine(switch, dt.time(0), tzinfo=berlin) - dt.timedelta(hours=hours_before))
    segments = timeline(manifest, start, days=2)
    at, index, step = start.astimezone(dt.timezone.utc), 0, dt.timedelta(minutes=15)
    while at < segments[-1].end:
        while not segments[index].start <= at < segments[index].end:
            index += 1
        assert (segments[index].playlist_id, segments[index].rule_id) == _reference(rules, at.astimezone(berlin), "loop")
        at += step
    for before, after in zip(segments, segments[1:]):
        assert before.end == after.start and (before.playlist_id, before.rule_id) != (after.playlist_id, after.rule_id)


def test_window_starting_inside_the_spring_forward_gap() -> None:
    # Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 never happens;
    # a window from 02:30 starts when the clocks show 03:00.
    berlin = ZoneInfo("Europe/Berlin")
    manifest = _manifest([ScheduleRule(id="early", playlist_id="morning", time_from=dt.time(2, 30),
                                       time_to=dt.time(6))], tz="Europe/Berlin")
    segments = timeline(manifest, dt.datetime(2026, 3, 28, 12, tzinfo=berlin), days=1)
    starts = [(s.start.astimezone(berlin).strftime("%H:%M %Z"), s.playlist_id) for s in segments]
    assert starts == [("12:00 CET", "loop"), ("03:00 CEST", "morning"), ("06:00 CEST", "loop")]
    # Autumn, 2026-10-25: 03:00 CEST goes back to 02:00 CET; a window ending at 02:30
    # is left at the first 02:30 and entered again when the clocks go back.
    manifest = _manifest([ScheduleRule(id="night", playlist_id="evening", time_from=dt.time(1),
                                       time_to=dt.time(2, 30))], tz="Europe/Berlin")
    segments = timeline(manifest, dt.datetime(2026, 10, 24, 12, tzinfo=berlin), days=1)
    starts = [(s.start.astimezone(berlin).strftime("%H:%M %Z"), s.playlist_id) for s in segments]
    assert starts == [("12:00 CEST", "loop"), ("01:00 CEST", "evening"), ("02:30 CEST", "loop"),
                      ("02:00 CET", "evening"), ("02:30 CET", "loop")]
