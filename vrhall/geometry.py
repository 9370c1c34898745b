"""Plane geometry of the hall (pure): rectangles, poses, rays, easing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Rect", eps: float = 1e-9) -> bool:
        return (self.x0 < other.x1 - eps and other.x0 < self.x1 - eps
                and self.y0 < other.y1 - eps and other.y0 < self.y1 - eps)

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def grown(self, d: float) -> "Rect":
        return Rect(self.x0 - d, self.y0 - d, self.x1 + d, self.y1 + d)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    @property
    def size(self) -> tuple[float, float]:
        return (self.x1 - self.x0, self.y1 - self.y0)

    def distance_to(self, x: float, y: float) -> float:
        dx = max(self.x0 - x, 0.0, x - self.x1)
        dy = max(self.y0 - y, 0.0, y - self.y1)
        return math.hypot(dx, dy)


@dataclass(frozen=True)
class Pose:
    """Where a visitor stands (eye at ``z``) and which way they look."""

    x: float
    y: float
    h: float
    z: float = 1.6
    p: float = 0.0

    @property
    def forward(self) -> tuple[float, float]:
        return heading_vector(self.h)


def heading_vector(h: float) -> tuple[float, float]:
    rad = math.radians(h)
    return (-math.sin(rad), math.cos(rad))


def heading_of(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(-dx, dy))


def ray_box(origin: Sequence[float], direction: Sequence[float],
             lo: Sequence[float], hi: Sequence[float]) -> float | None:
    """Distance along the ray to an axis-aligned box (slab method), or None."""
    t0, t1 = 0.0, math.inf
    for o, d, a, b in zip(origin, direction, lo, hi):
        if abs(d) < 1e-12:
            if o < a or o > b:
                return None
            continue
        ta, tb = (a - o) / d, (b - o) / d
        if ta > tb:
            ta, tb = tb, ta
        t0, t1 = max(t0, ta), min(t1, tb)
        if t0 > t1:
            return None
    return t0


def ease_in_out(t: float) -> float:
    """Smoothstep-like cubic easing: gentle start and stop for camera glides."""
    t = min(1.0, max(0.0, t))
    return t * t * (3 - 2 * t)


def interpolate_pose(a: Pose, b: Pose, t: float) -> Pose:
    """Eased pose between ``a`` and ``b``; the heading turns the short way."""
    e = ease_in_out(t)
    dh = (b.h - a.h + 180.0) % 360.0 - 180.0
    return Pose(a.x + (b.x - a.x) * e, a.y + (b.y - a.y) * e, a.h + dh * e,
                a.z + (b.z - a.z) * e, a.p + (b.p - a.p) * e)
