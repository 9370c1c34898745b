"""Dwell time per exhibit, measured from where the visitor looks (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from broker.messages import ExhibitView

from .guide import looking_at
from .layout import Placement, Pose


def exhibit_in_view(pose: Pose, placements: Iterable[Placement]) -> str | None:
    """The closest exhibit the visitor is facing and near enough to read."""
    best: tuple[float, str | None] = (math.inf, None)
    for p in placements:
        if looking_at(pose, (p.x, p.y)):
            d = math.hypot(p.x - pose.x, p.y - pose.y)
            if d < best[0]:
                best = (d, p.exhibit_id)
    return best[1]


@dataclass
class DwellTracker:
    """Emits one ``dwell`` event when the visitor turns away from an exhibit
    they looked at for at least ``min_s`` (glances are not views)."""

    site_id: str
    device_id: str
    min_s: float = 2.0
    current: str | None = None
    since: float = 0.0

    def update(self, now: float, exhibit_id: str | None) -> list[ExhibitView]:
        if exhibit_id == self.current:
            return []
        out = self.flush(now)
        self.current, self.since = exhibit_id, now
        return out

    def flush(self, now: float) -> list[ExhibitView]:
        if self.current is None or now - self.since < self.min_s:
            return []
        event = ExhibitView(site_id=self.site_id, device_id=self.device_id, event="dwell",
                            exhibit_id=self.current, dwell_s=round(now - self.since, 2), ts=now)
        self.current = None
        return [event]
