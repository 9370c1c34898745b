"""Compile one device group's manifest from the database: the published item
versions, the group's playlists and dayparting rules, the map and statistics.
A pure read; signing and sending is ``admin.publish``'s job."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.crud import items as crud_items
from admin.models import DeviceGroup, Member, Playlist, ScheduleRule, SiteSetting
from content import model as cm

MAP_KEY = "map"
KIOSK_SETTINGS_KEY = "kiosk"


def group_schedule(session: Session, *, group: DeviceGroup) -> tuple[cm.Schedule, list[cm.Playlist]]:
    rules = list(session.scalars(select(ScheduleRule).where(ScheduleRule.group == group.name)
                                 .order_by(ScheduleRule.priority.desc(), ScheduleRule.id)))
    wanted = {r.playlist_id for r in rules}
    if group.default_playlist_id:
        wanted.add(group.default_playlist_id)
    playlists = [cm.Playlist(id=p.id, name=p.name, entries=[cm.PlaylistEntry(**e) for e in p.entries])
                 for p in session.scalars(select(Playlist).where(Playlist.id.in_(wanted)).order_by(Playlist.id))]
    schedule = cm.Schedule(
        default_playlist_id=group.default_playlist_id,
        rules=[cm.ScheduleRule(id=r.id, playlist_id=r.playlist_id, priority=r.priority, date_from=r.date_from,
                               date_to=r.date_to, weekdays=r.weekdays, time_from=r.time_from, time_to=r.time_to)
               for r in rules],
    )
    return schedule, playlists


def site_setting(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(SiteSetting, key)
    return row.value if row is not None else None


def statistics(session: Session, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures for the kiosks' statistics screen, from what the group carries
    and the member register."""
    branches = [i for i in items if i["kind"] == "organisation"]
    by_kind: dict[str, int] = {}
    for item in items:
        by_kind[item["kind"]] = by_kind.get(item["kind"], 0) + 1
    registered = session.scalar(select(func.count()).select_from(Member)) or 0
    return {
        "branches": sum(1 for b in branches if b.get("parent_id")),
        "members": sum(int(b.get("member_count") or 0) for b in branches) or registered,
        "meetings_14d": by_kind.get("meeting", 0),
        "exhibits": by_kind.get("exhibit", 0),
        "by_kind": dict(sorted(by_kind.items())),
    }


def build_manifest(session: Session, *, group: DeviceGroup, site_id: str) -> cm.Manifest:
    kinds = set(group.kinds or [])
    items = [{**ver.data, "version_sha256": ver.sha256} for item, ver in crud_items.live_items(session)
             if not kinds or item.kind in kinds]
    present = {i["id"] for i in items}
    schedule, playlists = group_schedule(session, group=group)
    # A playlist entry whose item is not in this group's manifest would be a gap on screen.
    playlists = [p.model_copy(update={"entries": [e for e in p.entries if e.item_id in present]}) for p in playlists]
    map_value = site_setting(session, MAP_KEY)
    with_map = map_value is not None and (not kinds or "organisation" in kinds)
    return cm.Manifest(
        site_id=site_id, group=group.name, version=max(group.manifest_version, 0), created_at=time.time(),
        items=items, playlists=playlists, schedule=schedule,
        map=cm.MapInfo.model_validate(map_value) if with_map else None,
        stats=statistics(session, items), settings=site_setting(session, KIOSK_SETTINGS_KEY) or {},
    )
