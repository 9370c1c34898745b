"""Properties of the floor plan: any exhibit list gives a hall where nothing
overlaps, everything can be reached from the entrance and the visit reads in
chronological order."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from content.model import Exhibit, MediaRef
from vrhall.layout import OTHER_SECTION, LayoutSpec, build_layout, order_sections
from vrhall.paths import plan_path, segment_clear

MODEL = MediaRef(sha256="b" * 64, mime="model/gltf-binary", size=10)
SECTIONS = ["建党伟业", "长征精神", "抗日烽火", "开国大典", "改革开放", "新时代"]


@st.composite
def exhibit_lists(draw, max_size=90):
    n = draw(st.integers(min_value=0, max_value=max_size))
    exhibits = []
    for i in range(n):
        exhibits.append(Exhibit(
            id=f"ex{i}",
            title=f"展品{i}",
            section=draw(st.one_of(st.none(), st.sampled_from(SECTIONS))),
            year=draw(st.one_of(st.none(), st.integers(min_value=1919, max_value=2025))),
            model=MODEL if draw(st.integers(0, 4)) == 0 else None,
        ))
    return exhibits


def occupancy_reachable(layout, radius=0.3, cell=0.25):
    """Independent check: rasterise every obstacle grown by the visitor's
    radius, then flood-fill the free cells from the entrance."""
    b = layout.bounds
    nx, ny = math.ceil((b.x1 - b.x0) / cell), math.ceil((b.y1 - b.y0) / cell)
    xs = b.x0 + (np.arange(nx) + 0.5) * cell
    ys = b.y0 + (np.arange(ny) + 0.5) * cell
    blocked = np.ones((nx, ny), dtype=bool)
    for room in layout.rooms:  # outside the rooms is not walkable
        ix = (xs > room.bounds.x0) & (xs < room.bounds.x1)
        iy = (ys > room.bounds.y0) & (ys < room.bounds.y1)
        blocked[np.ix_(ix, iy)] = False
    for rect in layout.obstacles():
        g = rect.grown(radius)
        ix = (xs > g.x0) & (xs < g.x1)
        iy = (ys > g.y0) & (ys < g.y1)
        blocked[np.ix_(ix, iy)] = True

    def to_cell(x, y):
        return int((x - b.x0) / cell), int((y - b.y0) / cell)

    start = to_cell(layout.entrance.x, layout.entrance.y)
    assert not blocked[start], "the entrance itself is blocked"
    seen = np.zeros_like(blocked)
    seen[start] = True
    queue = deque([start])
    while queue:
        i, j = queue.popleft()
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            a, c = i + di, j + dj
            if 0 <= a < nx and 0 <= c < ny and not blocked[a, c] and not seen[a, c]:
                seen[a, c] = True
                queue.append((a, c))
    return lambda x, y: bool(seen[to_cell(x, y)])


def check_layout(exhibits, layout):
    ids = {e.id for e in exhibits}
    placed = [p.exhibit_id for p in layout.placements]
    assert sorted(placed) == sorted(ids), "every exhibit is placed exactly once"

    # No overlaps: exhibits with each other, with walls, with doorways.
    prints = [p.footprint for p in layout.placements]
    for i, a in enumerate(prints):
        for b in prints[i + 1:]:
            assert not a.overlaps(b)
        for wall in layout.walls:
            assert not a.overlaps(wall)
    for room in layout.rooms:
        for door in room.doors:
            gap = (layout.spec.door_width / 2)
            doorway = type(prints[0])(door.x - gap, door.y - gap, door.x + gap, door.y + gap) if prints else None
            for p in prints:
                assert not p.overlaps(doorway)

    reachable = occupancy_reachable(layout)
    by_id = {e.id: e for e in exhibits}
    for p in layout.placements:
        room = layout.rooms[p.room]
        view = p.view
        # The viewing spot is inside the exhibit's room, free and reachable...
        assert room.bounds.grown(-0.3).contains(view.x, view.y)
        assert not layout.blocked(view.x, view.y, 0.3)
        assert reachable(view.x, view.y), f"{p.exhibit_id} cannot be reached"
        # ...and looks straight at the exhibit.
        fx, fy = view.forward
        dx, dy = p.x - view.x, p.y - view.y
        assert (fx * dx + fy * dy) / math.hypot(dx, dy) > 0.999
        # Pedestals hold exactly the exhibits with a model.
        assert (p.kind == "pedestal") == (by_id[p.exhibit_id].model is not None)

    # Chronological: rooms follow the route; sections by earliest year; years
    # non-decreasing within a section; the "other" room comes last.
    route = [layout.placement(i) for i in layout.route()]
    assert [p.room for p in route] == sorted(p.room for p in route)
    sections = [layout.rooms[p.room].section for p in route]
    seen_sections = list(dict.fromkeys(sections))
    assert len(seen_sections) == len(set(sections)), "a section is visited in one stretch"
    min_years = []
    for name in seen_sections:
        years = [by_id[p.exhibit_id].year for p in route if layout.rooms[p.room].section == name]
        dated = [y for y in years if y is not None]
        assert dated == sorted(dated) and years[:len(dated)] == dated
        min_years.append(min(dated) if dated else None)
    dated_sections = [y for n, y in zip(seen_sections, min_years) if y is not None and n != OTHER_SECTION]
    assert dated_sections == sorted(dated_sections)
    if OTHER_SECTION in seen_sections and not any(e.section == OTHER_SECTION for e in exhibits):
        assert seen_sections[-1] == OTHER_SECTION

    # Consecutive rooms share a doorway.
    for a, b in zip(layout.rooms, layout.rooms[1:]):
        assert any(d.to_room == b.index for d in a.doors)
        assert any(d.to_room == a.index for d in b.doors)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exhibit_lists())
def test_layout_properties(exhibits):
    check_layout(exhibits, build_layout(exhibits))


def test_thousand_exhibits_make_more_rooms():
    exhibits = [Exhibit(id=f"e{i}", title=f"展品{i}", section=SECTIONS[i % 3] if i % 7 else None,
                        year=1921 + i % 100, model=MODEL if i % 9 == 0 else None) for i in range(1000)]
    layout = build_layout(exhibits)
    spec = LayoutSpec()
    assert len(layout.rooms) >= math.ceil(1000 / (spec.panels_per_room + spec.pedestals_per_room))
    check_layout(exhibits, layout)
    assert any("其他" in note for note in layout.notes)


def test_sections_ordered_by_earliest_year():
    exhibits = [Exhibit(id="a", title="a", section="改革开放", year=1978),
                Exhibit(id="b", title="b", section="建党伟业", year=1921),
                Exhibit(id="c", title="c", section=None, year=1900),
                Exhibit(id="d", title="d", section="改革开放", year=1960)]
    assert list(order_sections(exhibits)) == ["建党伟业", "改革开放", OTHER_SECTION]
    assert [e.id for e in order_sections(exhibits)["改革开放"]] == ["d", "a"]


def test_empty_hall_has_an_entrance_room():
    layout = build_layout([])
    assert len(layout.rooms) == 1 and layout.placements == []
    assert layout.notes


def test_walking_is_stopped_by_walls_and_pedestals():
    exhibits = [Exhibit(id=f"e{i}", title="x", section="建党伟业", year=1921, model=MODEL) for i in range(4)]
    layout = build_layout(exhibits)
    room = layout.rooms[0]
    cx, cy = room.bounds.center
    # Walking west from the centre stops at the west wall (no door there).
    x, y = layout.move(cx, cy, -20.0, 0.0, radius=0.3)
    assert x > room.bounds.x0 and not layout.blocked(x, y, 0.3)
    # Walking from a pedestal's viewing spot straight at it stops in front of it.
    p = layout.placements[0]
    fx, fy = p.view.forward
    x, y = layout.move(p.view.x, p.view.y, fx * 5, fy * 5)
    assert p.footprint.distance_to(x, y) >= 0.29


@settings(max_examples=15, deadline=None)
@given(exhibit_lists(max_size=50))
def test_paths_between_consecutive_stops_are_walkable(exhibits):
    layout = build_layout(exhibits)
    route = [layout.placement(i) for i in layout.route()]
    stops = [layout.entrance] + [p.view for p in route]
    for a, b in zip(stops, stops[1:]):
        path = plan_path(layout, (a.x, a.y), (b.x, b.y))
        assert path is not None and path[0] == (a.x, a.y) and path[-1] == (b.x, b.y)
        for s, t in zip(path, path[1:]):
            assert segment_clear(layout, s, t, 0.25)


def test_pick_hits_the_exhibit_in_view_not_through_walls():
    exhibits = [Exhibit(id=f"e{i}", title="x", section=s, year=1921) for i, s in enumerate(["甲"] * 3 + ["乙"] * 3)]
    layout = build_layout(exhibits)
    p = layout.placement("e1")
    fx, fy = p.view.forward
    assert layout.pick((p.view.x, p.view.y, 1.6), (fx, fy, 0.0)).exhibit_id == "e1"
    # From the next room, behind the wall, nothing is picked through it.
    other = layout.rooms[1]
    cx, cy = other.bounds.center
    hit = layout.pick((cx, cy + 3, 1.6), (-1.0, 0.0, 0.0))
    assert hit is None or hit.room == 1
