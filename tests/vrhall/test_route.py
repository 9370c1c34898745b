"""The tour route from content: the playlist scheduled now, exhibits only."""

from __future__ import annotations

import datetime as dt

from content.model import Exhibit, Manifest, Notice, Playlist, PlaylistEntry, Schedule, ScheduleRule
from vrhall.route import content_route


def manifest() -> Manifest:
    items = [Exhibit(id=f"e{i}", title=f"展品{i}", section="甲", year=1921 + i) for i in range(4)]
    items.append(Notice(id="n1", title="通知"))
    playlists = [
        Playlist(id="full", name="全程导览", entries=[PlaylistEntry(item_id=i, duration_s=20) for i in
                                                    ("e0", "n1", "e1", "e2", "e3")]),
        Playlist(id="weekend", name="周末精华", entries=[PlaylistEntry(item_id="e3", duration_s=45),
                                                       PlaylistEntry(item_id="e0", duration_s=15),
                                                       PlaylistEntry(item_id="gone", duration_s=15)]),
    ]
    schedule = Schedule(default_playlist_id="full",
                        rules=[ScheduleRule(id="we", playlist_id="weekend", priority=1, weekdays=[5, 6])])
    return Manifest(site_id="s", group="hall", version=1, created_at=0, items=items, playlists=playlists,
                    schedule=schedule)


def test_weekday_tour_is_the_default_playlist_without_non_exhibits():
    plan = content_route(manifest(), dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc))  # a Monday
    assert plan.stops == ("e0", "e1", "e2", "e3") and plan.dwell_of("e2") == 20 and plan.name == "全程导览"


def test_weekend_tour_follows_the_schedule_rule_and_its_dwell_times():
    plan = content_route(manifest(), dt.datetime(2026, 11, 28, 10, tzinfo=dt.timezone.utc))  # a Saturday
    assert plan.stops == ("e3", "e0") and plan.dwell_of("e3") == 45


def test_no_playlist_means_no_content_route():
    bare = manifest().model_copy(update={"playlists": [], "schedule": Schedule()})
    assert content_route(bare).stops == () and content_route(None).stops == ()
