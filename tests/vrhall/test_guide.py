"""The guide state machine, driven with an injected clock (no Panda3D)."""

from __future__ import annotations

import pytest

from broker.messages import ExhibitView, GuideAction, GuideStatus
from content.model import Exhibit
from vrhall.analytics import DwellTracker, exhibit_in_view
from vrhall.guide import EMPTY_ROUTE, EXPIRED, NOTHING_RUNNING, UNKNOWN_EXHIBIT, GuideMachine
from vrhall.layout import build_layout
from vrhall.paths import plan_path
from vrhall.narration import narration_seconds, split_sentences, subtitle_at, subtitles

SITE, HALL = "site1", "hall-1"


@pytest.fixture
def layout():
    exhibits = [Exhibit(id=f"e{i}", title=f"展品{i}", section="建党伟业" if i < 20 else "长征精神", year=1921 + i)
                for i in range(24)]
    return build_layout(exhibits)


@pytest.fixture
def machine(layout):
    titles = {p.exhibit_id: f"展品{p.exhibit_id[1:]}" for p in layout.placements}
    return GuideMachine(
        site_id=SITE, hall_id=HALL, titles=titles,
        pose_of=lambda i: layout.placement(i).view if layout.placement(i) else None,
        default_route=layout.route, dwell_s=lambda _i: 5.0,
        planner=lambda a, b: plan_path(layout, (a.x, a.y), (b.x, b.y)),
    )


def act(action, **kw):
    return GuideAction(site_id=SITE, hall_id=HALL, action=action, **kw)


def states(messages):
    return [m.state for m in messages if isinstance(m, GuideStatus)]


def run_until(machine, pose, now, end, step=0.1):
    out = []
    while now < end:
        now += step
        glide = machine.pose_at(now)
        pose = glide or pose
        out += machine.tick(now, pose)
    return out, now, pose


def test_goto_lifecycle_accepted_moving_arrived(machine, layout):
    goto = act("goto", exhibit_id="e3")
    out = machine.handle(goto, 0.0, layout.entrance)
    assert states(out) == ["accepted", "moving"]
    assert all(m.request_id == goto.request_id for m in out)
    assert out[0].exhibit_title == "展品3"
    later, now, pose = run_until(machine, layout.entrance, 0.0, 20.0)
    assert states(later) == ["arrived"]
    target = layout.placement("e3").view
    assert (pose.x, pose.y) == pytest.approx((target.x, target.y))
    assert machine.showing == "e3" and not machine.active


def test_unknown_exhibit_fails_with_reason(machine, layout):
    out = machine.handle(act("goto", exhibit_id="nope"), 0.0, layout.entrance)
    assert states(out) == ["failed"] and out[0].reason == UNKNOWN_EXHIBIT
    out = machine.handle(act("tour", route=["nope", "nada"]), 0.0, layout.entrance)
    assert states(out) == ["failed"] and out[0].reason == EMPTY_ROUTE


def test_expired_action_fails(machine, layout):
    out = machine.handle(act("goto", exhibit_id="e1", expires_at=5.0), 10.0, layout.entrance)
    assert out[0].state == "failed" and out[0].reason == EXPIRED


def test_tour_visits_route_in_order_and_completes(machine, layout):
    tour = act("tour", route=["e2", "zzz", "e5", "e21"])
    out = machine.handle(tour, 0.0, layout.entrance)
    assert states(out) == ["accepted", "moving"]
    assert "zzz" in out[0].reason and out[0].stops_total == 3
    later, now, _ = run_until(machine, layout.entrance, 0.0, 200.0)
    statuses = [m for m in later if isinstance(m, GuideStatus)]
    assert [(m.state, m.exhibit_id) for m in statuses] == [
        ("arrived", "e2"), ("moving", "e5"), ("arrived", "e5"), ("moving", "e21"), ("arrived", "e21"),
        ("completed", None)]
    views = [m for m in later if isinstance(m, ExhibitView)]
    assert [(v.event, v.stops_seen) for v in views] == [("tour_completed", 3)]


def test_default_tour_is_chronological(machine, layout):
    out = machine.handle(act("tour"), 0.0, layout.entrance)
    assert out[1].exhibit_id == layout.route()[0] == "e0"
    assert machine.stops == layout.route()


def test_pause_freezes_and_resume_continues(machine, layout):
    machine.handle(act("goto", exhibit_id="e10"), 0.0, layout.entrance)
    run_until(machine, layout.entrance, 0.0, 0.5)
    frozen = machine.pose_at(0.5)
    assert states(machine.handle(act("pause"), 0.5, frozen)) == ["accepted"]
    assert machine.pose_at(30.0) == frozen and machine.tick(30.0, frozen) == []
    assert states(machine.handle(act("pause"), 30.0, frozen)) == ["failed"]
    assert states(machine.handle(act("resume"), 30.0, frozen)) == ["accepted"]
    assert machine.pose_at(30.0) == frozen  # picks up where it stopped
    later, _, _ = run_until(machine, frozen, 30.0, 60.0)
    assert states(later) == ["arrived"]


def test_skip_and_stop(machine, layout):
    tour = act("tour", route=["e1", "e2", "e3"])
    machine.handle(tour, 0.0, layout.entrance)
    out = machine.handle(act("skip"), 0.2, layout.entrance)
    assert states(out) == ["accepted", "moving"] and out[1].exhibit_id == "e2" and out[1].stop_index == 1
    stop = act("stop")
    out = machine.handle(stop, 0.4, layout.entrance)
    assert states(out) == ["accepted", "cancelled"]
    assert out[1].request_id == tour.request_id
    assert [m.event for m in out if isinstance(m, ExhibitView)] == ["tour_abandoned"]
    out = machine.handle(act("stop"), 0.5, layout.entrance)
    assert out[0].state == "failed" and out[0].reason == NOTHING_RUNNING


def test_new_goto_cancels_running_tour(machine, layout):
    tour = act("tour")
    machine.handle(tour, 0.0, layout.entrance)
    out = machine.handle(act("goto", exhibit_id="e4"), 1.0, layout.entrance)
    assert [(m.state, m.request_id == tour.request_id) for m in out if isinstance(m, GuideStatus)] == [
        ("cancelled", True), ("accepted", False), ("moving", False)]


def test_dwell_tracker_reports_views_not_glances(layout):
    tracker = DwellTracker(site_id=SITE, device_id=HALL, min_s=2.0)
    p = layout.placement("e0")
    seen = exhibit_in_view(p.view, layout.placements)
    assert seen == "e0"
    assert tracker.update(0.0, seen) == []
    events = tracker.update(5.5, None)
    assert len(events) == 1 and events[0].exhibit_id == "e0" and events[0].dwell_s == pytest.approx(5.5)
    tracker.update(6.0, "e1")
    assert tracker.update(6.5, None) == []


def test_subtitles_follow_sentences():
    text = "一九二一年七月，中国共产党第一次全国代表大会在上海召开。会议最后一天转移到浙江嘉兴南湖的一艘游船上举行！"
    parts = split_sentences(text)
    assert parts[0].endswith("。") and len(parts) >= 2
    subs = subtitles(text)
    assert subtitle_at(subs, 0.1) == parts[0]
    assert subtitle_at(subs, subs[-1].start + 0.1) == parts[-1]
    assert narration_seconds(text) == subs[-1].end


def test_touch_joystick_maps_the_finger_to_walking_and_turning():
    from vrhall.joystick import inside, stick_vector

    centre, r = (-1.4, -0.6), 0.2
    assert stick_vector(centre, r, centre) == (0.0, 0.0)                 # resting finger: no drift
    assert stick_vector(centre, r, (-1.4, -0.4)) == pytest.approx((1.0, 0.0))   # up: forward
    fwd, turn = stick_vector(centre, r, (-1.0, -0.6))                     # far right: clamp, turn right
    assert fwd == pytest.approx(0.0) and turn == pytest.approx(-1.0)
    assert inside(centre, r, (-1.3, -0.6)) and not inside(centre, r, (0.0, 0.0))
