"""The tour route from content (pure): the playlist the hall's schedule plays
now, when it lists exhibits, gives the stops and the dwell at each; without
one the tour is chronological (the layout's own order)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from content.model import Manifest
from content.schedule import resolve_playlist


@dataclass(frozen=True)
class RoutePlan:
    stops: tuple[str, ...] = ()
    dwell: tuple[tuple[str, float], ...] = ()
    name: str | None = None

    def dwell_of(self, exhibit_id: str) -> float | None:
        return dict(self.dwell).get(exhibit_id)


def content_route(manifest: Manifest | None, at: dt.datetime | None = None) -> RoutePlan:
    if manifest is None:
        return RoutePlan()
    at = at or dt.datetime.now(dt.timezone.utc)
    playlist = resolve_playlist(manifest, at)
    if playlist is None:
        return RoutePlan()
    exhibits = {item.id for item in manifest.of_kind("exhibit")}
    entries = [e for e in playlist.entries if e.item_id in exhibits]
    stops = tuple(dict.fromkeys(e.item_id for e in entries))
    return RoutePlan(stops, tuple((e.item_id, e.duration_s) for e in entries), playlist.name)
