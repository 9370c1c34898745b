"""Walkable paths for the camera's glides (pure)."""

from __future__ import annotations

import math
from collections import deque
from typing import Sequence

from .layout import HallLayout


def segment_clear(layout: HallLayout, a: tuple[float, float], b: tuple[float, float], radius: float) -> bool:
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    steps = max(1, math.ceil(length / 0.2))
    return not any(layout.blocked(a[0] + (b[0] - a[0]) * i / steps, a[1] + (b[1] - a[1]) * i / steps, radius)
                   for i in range(steps + 1))


def plan_path(layout: HallLayout, start: tuple[float, float], goal: tuple[float, float], *,
              radius: float = 0.3, cell: float = 0.5, max_rooms: int = 4) -> list[tuple[float, float]] | None:
    """A walkable polyline from ``start`` to ``goal`` through the rooms between
    them on the chain, or None when it is too far to glide (the caller cuts)
    or no way exists. Grid breadth-first search, then string pulling."""
    if segment_clear(layout, start, goal, radius):
        return [start, goal]
    ra, rb = layout.room_at(*start), layout.room_at(*goal)
    if ra is None or rb is None:
        return None
    lo, hi = sorted((ra.index, rb.index))
    if hi - lo + 1 > max_rooms:
        return None
    rooms = layout.rooms[lo:hi + 1]
    x0 = min(r.bounds.x0 for r in rooms)
    y0 = min(r.bounds.y0 for r in rooms)
    x1 = max(r.bounds.x1 for r in rooms)
    y1 = max(r.bounds.y1 for r in rooms)
    nx, ny = int((x1 - x0) / cell), int((y1 - y0) / cell)
    allowed = {r.index for r in rooms}

    def centre(i: int, j: int) -> tuple[float, float]:
        return (x0 + (i + 0.5) * cell, y0 + (j + 0.5) * cell)

    def free(i: int, j: int) -> bool:
        x, y = centre(i, j)
        room = layout.room_at(x, y)
        return room is not None and room.index in allowed and not layout.blocked(x, y, radius)

    def to_cell(p: tuple[float, float]) -> tuple[int, int]:
        return (min(nx - 1, max(0, int((p[0] - x0) / cell))), min(ny - 1, max(0, int((p[1] - y0) / cell))))

    def nearest_free(c: tuple[int, int]) -> tuple[int, int] | None:
        for r in range(0, 4):
            for i in range(c[0] - r, c[0] + r + 1):
                for j in range(c[1] - r, c[1] + r + 1):
                    if 0 <= i < nx and 0 <= j < ny and free(i, j):
                        return (i, j)
        return None

    s, g = nearest_free(to_cell(start)), nearest_free(to_cell(goal))
    if s is None or g is None:
        return None
    came: dict[tuple[int, int], tuple[int, int] | None] = {s: None}
    queue = deque([s])
    while queue:
        c = queue.popleft()
        if c == g:
            break
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)):
            n = (c[0] + di, c[1] + dj)
            if n in came or not (0 <= n[0] < nx and 0 <= n[1] < ny):
                continue
            if not free(*n) or (di and dj and not (free(c[0] + di, c[1]) and free(c[0], c[1] + dj))):
                continue
            came[n] = c
            queue.append(n)
    if g not in came:
        return None
    cells = []
    c: tuple[int, int] | None = g
    while c is not None:
        cells.append(c)
        c = came[c]
    points = [start] + [centre(*c) for c in reversed(cells)] + [goal]
    # String pulling: keep only the corners a straight walk cannot cut.
    pulled = [points[0]]
    i = 0
    while i < len(points) - 1:
        j = len(points) - 1
        while j > i + 1 and not segment_clear(layout, points[i], points[j], radius * 0.9):
            j -= 1
        pulled.append(points[j])
        i = j
    return pulled


def path_length(points: Sequence[tuple[float, float]]) -> float:
    return sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:]))


def point_along(points: Sequence[tuple[float, float]], distance: float) -> tuple[float, float]:
    for a, b in zip(points, points[1:]):
        seg = math.hypot(b[0] - a[0], b[1] - a[1])
        if distance <= seg and seg > 0:
            f = distance / seg
            return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
        distance -= seg
    return points[-1]
