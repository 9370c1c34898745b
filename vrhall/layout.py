"""The floor plan of the hall: a pure function from exhibits to rooms, walls,
doorways and exhibit placements. No Panda3D here, so it is tested alone.

Shape of the hall: every section becomes one or more square rooms of the same
size on a grid. Rooms follow each other in chronological order along a
serpentine (boustrophedon) path across the grid, so consecutive rooms always
share a wall and that wall gets the doorway; the first room has the entrance in
its south wall. A chain of rooms keeps the visit linear (history is told in
order) and makes reachability easy to reason about.

Inside a room, exhibits with a 3D model stand on pedestals in the four
quadrants (the cross through the centre stays free, so every doorway connects
to every other through the middle) and the rest hang on the walls beside the
doorway gaps. Every wall keeps its centre free whether or not it has a door, so
a room's capacity is known before the grid is laid out.

Coordinates: metres, x to the east, y to the north (Panda3D's x/y), z up.
Headings follow Panda3D: 0 faces +y, 90 faces -x.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable, Literal, Protocol, Sequence

from .geometry import Pose, Rect, heading_of, heading_vector, ray_box

__all__ = ["OTHER_SECTION", "Door", "HallLayout", "LayoutSpec", "Placement", "Pose", "Rect", "Room",
           "build_layout", "heading_of", "heading_vector", "order_sections"]

OTHER_SECTION = "其他"
Side = Literal["S", "E", "N", "W"]
SIDES_CCW: tuple[Side, ...] = ("S", "E", "N", "W")
# Inward normal of each wall of a room.
NORMALS: dict[str, tuple[float, float]] = {"S": (0.0, 1.0), "E": (-1.0, 0.0), "N": (0.0, -1.0), "W": (1.0, 0.0)}
_OPPOSITE: dict[str, Side] = {"S": "N", "N": "S", "E": "W", "W": "E"}


class ExhibitLike(Protocol):
    id: str
    section: str | None
    year: int | None
    model: object | None


@dataclass(frozen=True)
class LayoutSpec:
    """Dimensions of the hall. The defaults fit 16 panels and 4 pedestals in a
    16 m room with room to walk and a 3 m viewing distance (a panel fills
    the view of a 60-degree lens at eye height)."""

    room_size: float = 16.0
    wall_thickness: float = 0.2
    wall_height: float = 4.5
    door_width: float = 2.4
    corner_margin: float = 1.0
    door_margin: float = 0.6
    panel_width: float = 2.0
    panel_pitch: float = 2.6
    panel_depth: float = 0.12
    panel_bottom: float = 0.7
    panel_top: float = 2.55
    pedestal_size: float = 1.2
    pedestal_height: float = 1.0
    pedestal_offset: float = 3.4
    view_distance: float = 3.0
    pedestal_view_distance: float = 3.2
    eye_height: float = 1.6

    @property
    def panel_slots_per_wall(self) -> int:
        return 2 * self._slots_per_half()

    @property
    def panels_per_room(self) -> int:
        return 4 * self.panel_slots_per_wall

    @property
    def pedestals_per_room(self) -> int:
        return 4

    def _slots_per_half(self) -> int:
        half = self._half_range()
        return max(0, int((half[1] - half[0] + self.panel_pitch - self.panel_width) // self.panel_pitch))

    def _half_range(self) -> tuple[float, float]:
        return (self.corner_margin, self.room_size / 2 - self.door_width / 2 - self.door_margin)


@dataclass(frozen=True)
class Door:
    side: Side
    x: float
    y: float
    width: float
    to_room: int | None  # None: the entrance from outside


@dataclass(frozen=True)
class Room:
    index: int
    section: str
    part: int
    parts: int
    cell: tuple[int, int]
    bounds: Rect
    doors: tuple[Door, ...]
    entry_side: Side

    @property
    def key(self) -> tuple[str, int]:
        """Identity across rebuilds: the same section part keeps its key."""
        return (self.section, self.part)

    @property
    def title(self) -> str:
        return self.section if self.parts == 1 else f"{self.section}（{self.part}/{self.parts}）"

    @property
    def door_sides(self) -> frozenset[str]:
        return frozenset(d.side for d in self.doors)

    def entry_pose(self, spec: LayoutSpec) -> Pose:
        """Just inside the entry doorway, looking into the room."""
        door = next(d for d in self.doors if d.side == self.entry_side)
        nx, ny = NORMALS[self.entry_side]
        return Pose(door.x + nx * 1.5, door.y + ny * 1.5, heading_of(nx, ny), spec.eye_height)


@dataclass(frozen=True)
class Placement:
    exhibit_id: str
    room: int
    kind: Literal["panel", "pedestal"]
    x: float
    y: float
    facing: float  # heading the exhibit's front faces (towards the viewer)
    footprint: Rect
    bottom: float
    top: float
    view: Pose
    order: int  # position on the chronological route
    year: int | None
    side: Side | None = None  # wall of a panel


@dataclass
class HallLayout:
    spec: LayoutSpec
    rooms: list[Room]
    placements: list[Placement]
    walls: list[Rect]
    entrance: Pose
    columns: int
    notes: list[str] = field(default_factory=list)
    _by_id: dict[str, Placement] = field(default_factory=dict, repr=False)
    _by_cell: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    _buckets: dict[tuple[int, int], list[Rect]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {p.exhibit_id: p for p in self.placements}
        self._by_cell = {room.cell: room.index for room in self.rooms}
        size = self.spec.room_size
        for rect in self.obstacles():
            for cx in range(math.floor((rect.x0 - 1) / size), math.floor((rect.x1 + 1) / size) + 1):
                for cy in range(math.floor((rect.y0 - 1) / size), math.floor((rect.y1 + 1) / size) + 1):
                    self._buckets.setdefault((cx, cy), []).append(rect)

    # -- queries ----------------------------------------------------------------
    def placement(self, exhibit_id: str) -> Placement | None:
        return self._by_id.get(exhibit_id)

    def route(self) -> list[str]:
        """Exhibit ids in chronological visiting order (the default tour)."""
        return [p.exhibit_id for p in sorted(self.placements, key=lambda p: p.order)]

    def room_at(self, x: float, y: float) -> Room | None:
        size = self.spec.room_size
        index = self._by_cell.get((math.floor(x / size), math.floor(y / size)))
        return None if index is None else self.rooms[index]

    def room_by_key(self, key: tuple[str, int]) -> Room | None:
        return next((room for room in self.rooms if room.key == key), None)

    def obstacles(self) -> list[Rect]:
        return self.walls + [p.footprint for p in self.placements]

    @property
    def bounds(self) -> Rect:
        xs = [r.bounds.x0 for r in self.rooms] + [r.bounds.x1 for r in self.rooms]
        ys = [r.bounds.y0 for r in self.rooms] + [r.bounds.y1 for r in self.rooms]
        return Rect(min(xs), min(ys), max(xs), max(ys))

    # -- movement ---------------------------------------------------------------
    def blocked(self, x: float, y: float, radius: float) -> bool:
        size = self.spec.room_size
        for rect in self._buckets.get((math.floor(x / size), math.floor(y / size)), ()):
            if rect.distance_to(x, y) < radius:
                return True
        return False

    def move(self, x: float, y: float, dx: float, dy: float, radius: float = 0.3) -> tuple[float, float]:
        """Walk from (x, y) by (dx, dy), sliding along what blocks the way.

        Long steps are split so a fast frame cannot tunnel through a wall.
        """
        steps = max(1, math.ceil(math.hypot(dx, dy) / (radius * 0.5)))
        sx, sy = dx / steps, dy / steps
        for _ in range(steps):
            if not self.blocked(x + sx, y + sy, radius):
                x, y = x + sx, y + sy
            elif not self.blocked(x + sx, y, radius):
                x += sx
            elif not self.blocked(x, y + sy, radius):
                y += sy
        return x, y

    # -- picking ----------------------------------------------------------------
    def pick(self, origin: tuple[float, float, float], direction: tuple[float, float, float],
             max_distance: float = 40.0) -> Placement | None:
        """The exhibit a view ray hits first, unless a wall is in front of it."""
        best: tuple[float, Placement | None] = (max_distance, None)
        candidates: list[tuple[Rect, float, float, Placement | None]] = [
            (w, 0.0, self.spec.wall_height, None) for w in self.walls
        ]
        candidates += [(p.footprint, p.bottom, p.top, p) for p in self.placements]
        for rect, z0, z1, placement in candidates:
            t = ray_box(origin, direction, (rect.x0, rect.y0, z0), (rect.x1, rect.y1, z1))
            if t is not None and t < best[0]:
                best = (t, placement)
        return best[1]

    def floor_point(self, origin: tuple[float, float, float],
                    direction: tuple[float, float, float]) -> tuple[float, float] | None:
        """Where a view ray meets the floor (teleport target), if it does."""
        if direction[2] >= -1e-6:
            return None
        t = -origin[2] / direction[2]
        return (origin[0] + direction[0] * t, origin[1] + direction[1] * t)


# -- building the layout ------------------------------------------------------------

@dataclass(frozen=True)
class _Chunk:
    section: str
    part: int
    parts: int
    exhibits: tuple[ExhibitLike, ...]


def order_sections(exhibits: Iterable[ExhibitLike]) -> "OrderedDict[str, list[ExhibitLike]]":
    """Sections in chronological order (by the earliest year among their
    exhibits), exhibits within a section by year; undated things keep their
    order after the dated ones, and exhibits without a section go last into
    the "其他" room."""
    groups: OrderedDict[str, list[ExhibitLike]] = OrderedDict()
    for exhibit in exhibits:
        groups.setdefault(exhibit.section or OTHER_SECTION, []).append(exhibit)
    for name, items in groups.items():
        groups[name] = sorted(items, key=lambda e: (e.year is None, e.year or 0))

    names = list(groups)

    def section_key(name: str) -> tuple[int, int, int]:
        years = [e.year for e in groups[name] if e.year is not None]
        return (name == OTHER_SECTION, 0 if years else 1, min(years) if years else names.index(name))

    return OrderedDict((name, groups[name]) for name in sorted(names, key=section_key))


def _chunks(sections: "OrderedDict[str, list[ExhibitLike]]", spec: LayoutSpec) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    for name, items in sections.items():
        parts: list[list[ExhibitLike]] = [[]]
        panels = pedestals = 0
        for exhibit in items:
            on_pedestal = exhibit.model is not None
            if (on_pedestal and pedestals >= spec.pedestals_per_room) or (
                    not on_pedestal and panels >= spec.panels_per_room):
                parts.append([])
                panels = pedestals = 0
            parts[-1].append(exhibit)
            pedestals += on_pedestal
            panels += not on_pedestal
        chunks += [_Chunk(name, i + 1, len(parts), tuple(p)) for i, p in enumerate(parts)]
    return chunks


def _serpentine(count: int, columns: int) -> list[tuple[int, int]]:
    cells = []
    for k in range(count):
        row, col = divmod(k, columns)
        cells.append((col if row % 2 == 0 else columns - 1 - col, row))
    return cells


def _side_towards(a: tuple[int, int], b: tuple[int, int]) -> Side:
    dx, dy = b[0] - a[0], b[1] - a[1]
    return {(1, 0): "E", (-1, 0): "W", (0, 1): "N", (0, -1): "S"}[(dx, dy)]


def wall_point(bounds: Rect, side: str, u: float) -> tuple[float, float]:
    """Point on a wall line at distance ``u`` along it, counter-clockwise."""
    if side == "S":
        return (bounds.x0 + u, bounds.y0)
    if side == "E":
        return (bounds.x1, bounds.y0 + u)
    if side == "N":
        return (bounds.x1 - u, bounds.y1)
    return (bounds.x0, bounds.y1 - u)


def _panel_slots(room_bounds: Rect, entry: Side, spec: LayoutSpec) -> list[tuple[Side, float, float]]:
    """Wall slots (side, x, y on the wall line) in reading order: from the
    entry doorway clockwise around the room and back to it."""
    lo, hi = spec._half_range()
    n = spec._slots_per_half()
    span = n * spec.panel_width + (n - 1) * (spec.panel_pitch - spec.panel_width) if n else 0.0
    first = lo + (hi - lo - span) / 2 + spec.panel_width / 2
    half_a = [first + i * spec.panel_pitch for i in range(n)]
    half_b = [spec.room_size - u for u in reversed(half_a)]
    start = SIDES_CCW.index(entry)
    order = [SIDES_CCW[(start + i) % 4] for i in range(4)]
    slots: list[tuple[Side, float, float]] = []
    slots += [(entry, *wall_point(room_bounds, entry, u)) for u in half_b]
    for side in order[1:]:
        slots += [(side, *wall_point(room_bounds, side, u)) for u in half_a + half_b]
    slots += [(entry, *wall_point(room_bounds, entry, u)) for u in half_a]
    # Built counter-clockwise, used clockwise: a visitor facing a wall then
    # reads its panels left to right, as Chinese text runs.
    return slots[::-1]


def _pedestal_slots(room_bounds: Rect, entry: Side, spec: LayoutSpec) -> list[tuple[float, float]]:
    cx, cy = room_bounds.center
    d = spec.pedestal_offset
    # Clockwise by angle (like the wall panels), starting beside the entry doorway.
    nx, ny = NORMALS[entry]
    entry_angle = math.atan2(-ny, -nx)  # direction from centre to the entry wall
    quads = [(cx + sx * d, cy + sy * d) for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1))]
    return sorted(quads, key=lambda q: (entry_angle - math.atan2(q[1] - cy, q[0] - cx)) % (2 * math.pi))


def _spread(slots: list, count: int) -> list:
    """``count`` slots spread evenly around the room, in order: a room with a
    few exhibits shows them on every wall instead of crowding one corner."""
    if count <= 0:
        return []
    return [slots[int((i + 0.5) * len(slots) / count)] for i in range(count)]


def _in_sight(slots: list[tuple[Side, float, float]], count: int, entry: Pose) -> list[tuple[Side, float, float]]:
    """The ``count`` slots most in view of a visitor walking in (opposite
    wall first, then the far ends of the side walls), kept in reading order,
    so a room with few exhibits greets the visitor with them."""
    fx, fy = entry.forward

    def off_axis(slot: tuple[Side, float, float]) -> float:
        dx, dy = slot[1] - entry.x, slot[2] - entry.y
        return -(fx * dx + fy * dy) / (math.hypot(dx, dy) or 1.0)

    chosen = sorted(range(len(slots)), key=lambda i: (round(off_axis(slots[i]), 6), i))[:max(0, count)]
    return [slots[i] for i in sorted(chosen)]


def build_layout(exhibits: Sequence[ExhibitLike], spec: LayoutSpec | None = None) -> HallLayout:
    spec = spec or LayoutSpec()
    notes: list[str] = []
    seen: set[str] = set()
    unique = []
    for exhibit in exhibits:
        if exhibit.id in seen:
            notes.append(f"展品 {exhibit.id} 重复，已跳过")
            continue
        seen.add(exhibit.id)
        unique.append(exhibit)
    no_section = sum(1 for e in unique if not e.section)
    if no_section:
        notes.append(f"{no_section} 件展品没有展区，已放入“{OTHER_SECTION}”展室")

    chunks = _chunks(order_sections(unique), spec) if unique else []
    if not chunks:
        # An empty hall is still a hall: one room, so the visitor has a floor.
        chunks = [_Chunk("序厅", 1, 1, ())]
        notes.append("没有展品：只建了序厅")
    columns = max(1, math.ceil(math.sqrt(len(chunks))))
    cells = _serpentine(len(chunks), columns)
    size = spec.room_size

    rooms: list[Room] = []
    for k, (chunk, cell) in enumerate(zip(chunks, cells)):
        bounds = Rect(cell[0] * size, cell[1] * size, (cell[0] + 1) * size, (cell[1] + 1) * size)
        doors = []
        entry: Side = "S" if k == 0 else _side_towards(cell, cells[k - 1])
        for side, other in ((entry, None if k == 0 else k - 1),
                            (None if k == len(chunks) - 1 else _side_towards(cell, cells[k + 1]), k + 1)):
            if side is None:
                continue
            x, y = wall_point(bounds, side, size / 2)
            doors.append(Door(side, x, y, spec.door_width, other))
        rooms.append(Room(k, chunk.section, chunk.part, chunk.parts, cell, bounds, tuple(doors), entry))

    placements: list[Placement] = []
    order = 0
    half_t = spec.wall_thickness / 2
    for room, chunk in zip(rooms, chunks):
        n_pedestals = sum(1 for e in chunk.exhibits if e.model is not None)
        n_panels = len(chunk.exhibits) - n_pedestals
        panel_slots = iter(_in_sight(_panel_slots(room.bounds, room.entry_side, spec), n_panels,
                                     room.entry_pose(spec)))
        pedestal_slots = iter(_spread(_pedestal_slots(room.bounds, room.entry_side, spec), n_pedestals))
        cx, cy = room.bounds.center
        for exhibit in chunk.exhibits:
            if exhibit.model is not None:
                px, py = next(pedestal_slots)
                s = spec.pedestal_size / 2
                # Viewed from the room's central cross, so the viewer never
                # stands in a wall panel's viewing spot or another pedestal.
                vx, vy = cx - px, cy - py
                norm = math.hypot(vx, vy)
                vx, vy = vx / norm, vy / norm
                dist = spec.pedestal_view_distance
                view = Pose(px + vx * dist, py + vy * dist, heading_of(-vx, -vy), spec.eye_height, -6.0)
                placements.append(Placement(exhibit.id, room.index, "pedestal", px, py, heading_of(vx, vy),
                                            Rect(px - s, py - s, px + s, py + s), 0.0, spec.pedestal_height + 1.2,
                                            view, order, exhibit.year))
            else:
                side, wx, wy = next(panel_slots)
                nx, ny = NORMALS[side]
                inset = half_t + spec.panel_depth
                px, py = wx + nx * inset, wy + ny * inset
                # Footprint from the wall face to the panel front.
                ax, ay = wx + nx * half_t, wy + ny * half_t
                tx, ty = -ny, nx  # along the wall
                w = spec.panel_width / 2
                corners_x = [ax + tx * w, ax - tx * w, px + tx * w, px - tx * w]
                corners_y = [ay + ty * w, ay - ty * w, py + ty * w, py - ty * w]
                footprint = Rect(min(corners_x), min(corners_y), max(corners_x), max(corners_y))
                vd = spec.view_distance
                view = Pose(px + nx * vd, py + ny * vd, heading_of(-nx, -ny), spec.eye_height)
                placements.append(Placement(exhibit.id, room.index, "panel", px, py, heading_of(nx, ny),
                                            footprint, spec.panel_bottom, spec.panel_top, view, order,
                                            exhibit.year, side))
            order += 1

    walls = _walls(rooms, spec)
    entrance = rooms[0].entry_pose(spec)
    return HallLayout(spec, rooms, placements, walls, entrance, columns, notes)


def _walls(rooms: list[Room], spec: LayoutSpec) -> list[Rect]:
    """One wall per grid edge that touches a room (shared walls only once),
    split around a doorway where the edge has one."""
    size, t = spec.room_size, spec.wall_thickness / 2
    cells = {room.cell: room for room in rooms}
    edges: dict[tuple[str, int, int], bool] = {}  # ("h"|"v", i, j) -> has door
    for room in rooms:
        cx, cy = room.cell
        for side in SIDES_CCW:
            key = {"S": ("h", cx, cy), "N": ("h", cx, cy + 1), "W": ("v", cx, cy), "E": ("v", cx + 1, cy)}[side]
            has_door = side in room.door_sides
            edges[key] = edges.get(key, False) or has_door
    del cells
    walls: list[Rect] = []
    half_door = spec.door_width / 2
    for (orient, i, j), has_door in sorted(edges.items()):
        if orient == "h":
            y = j * size
            x0, x1 = i * size - t, (i + 1) * size + t
            mid = i * size + size / 2
            parts = [(x0, mid - half_door), (mid + half_door, x1)] if has_door else [(x0, x1)]
            walls += [Rect(a, y - t, b, y + t) for a, b in parts]
        else:
            x = i * size
            y0, y1 = j * size - t, (j + 1) * size + t
            mid = j * size + size / 2
            parts = [(y0, mid - half_door), (mid + half_door, y1)] if has_door else [(y0, y1)]
            walls += [Rect(x - t, a, x + t, b) for a, b in parts]
    return walls
