"""Guided tours and robot guidance as a pure state machine.

Every input (a GuideAction from the robot over MQTT, or from the keyboard, or a
clock tick) goes through ``handle``/``tick`` with the time passed in, and every
output is a message to publish (GuideStatus lifecycle, ExhibitView for tour
completion). The camera reads ``pose_at(now)`` while a glide is under way. No
Panda3D, no broker, no wall clock: tests drive it step by step.

Lifecycle published per request id:
  goto:  accepted → moving → arrived          (or failed: 未知展品 / 指令已过期)
  tour:  accepted → (moving → arrived) per stop → completed
  a newer goto/tour or a stop cancels the running one: cancelled
  pause / resume / skip / stop: accepted, or failed with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping, Sequence

from broker.messages import ExhibitView, GuideAction, GuideStatus, Message

from .geometry import Pose, ease_in_out, heading_vector
from .paths import path_length, point_along

Planner = Callable[[Pose, Pose], "list[tuple[float, float]] | None"]

UNKNOWN_EXHIBIT = "未知展品"
EXPIRED = "指令已过期"
NOTHING_RUNNING = "当前没有进行中的导览"
NOT_PAUSED = "导览没有暂停"
ALREADY_PAUSED = "导览已经暂停"
EMPTY_ROUTE = "路线中没有可参观的展品"
SUPERSEDED = "被新的指令取代"
STOPPED = "导览已停止"


@dataclass
class Flight:
    """A glide of the camera along a walkable path, eased at both ends.

    ``jump`` flights (too far to glide) hold the start pose for the first half
    and the end pose for the second; the renderer fades through black."""

    start: Pose
    end: Pose
    path: list[tuple[float, float]]
    t0: float
    duration: float
    jump: bool = False

    def progress(self, now: float) -> float:
        return 1.0 if self.duration <= 0 else min(1.0, max(0.0, (now - self.t0) / self.duration))

    def pose_at(self, now: float) -> Pose:
        t = self.progress(now)
        if self.jump:
            return self.start if t < 0.5 else self.end
        e = ease_in_out(t)
        x, y = point_along(self.path, path_length(self.path) * e)
        dh = (self.end.h - self.start.h + 180.0) % 360.0 - 180.0
        return Pose(x, y, self.start.h + dh * e, self.start.z + (self.end.z - self.start.z) * e,
                    self.start.p + (self.end.p - self.start.p) * e)

    def done(self, now: float) -> bool:
        return self.progress(now) >= 1.0


def make_flight(start: Pose, end: Pose, now: float, planner: Planner | None, *, speed: float = 1.6,
                min_s: float = 1.0, max_s: float = 8.0) -> Flight:
    path = planner(start, end) if planner else [(start.x, start.y), (end.x, end.y)]
    if path is None:
        return Flight(start, end, [(start.x, start.y), (end.x, end.y)], now, 1.2, jump=True)
    turn = abs((end.h - start.h + 180.0) % 360.0 - 180.0)
    duration = min(max_s, max(min_s, path_length(path) / speed, turn / 90.0))
    return Flight(start, end, path, now, duration)


Phase = Literal["idle", "moving", "dwelling"]


@dataclass
class GuideMachine:
    site_id: str
    hall_id: str
    titles: Mapping[str, str]                      # exhibit id -> title (what exists)
    pose_of: Callable[[str], Pose | None]          # viewing pose of an exhibit
    default_route: Callable[[], Sequence[str]]     # chronological tour
    dwell_s: Callable[[str], float] = lambda _id: 8.0
    planner: Planner | None = None

    phase: Phase = "idle"
    paused_at: float | None = None
    request: GuideAction | None = None
    mode: Literal["goto", "tour"] | None = None
    stops: list[str] = field(default_factory=list)
    index: int = 0
    flight: Flight | None = None
    dwell_started: float | None = None
    dwell_until: float | None = None
    showing: str | None = None                     # exhibit whose card and subtitles are up
    stops_seen: int = 0

    # -- inputs -----------------------------------------------------------------
    def handle(self, action: GuideAction, now: float, pose: Pose) -> list[Message]:
        if action.expired(now):
            return [self._status(action, "failed", reason=EXPIRED)]
        verb = action.action
        if verb == "goto":
            return self._goto(action, now, pose)
        if verb == "tour":
            return self._tour(action, now, pose)
        if verb == "stop":
            if not self.active:
                return [self._status(action, "failed", reason=NOTHING_RUNNING)]
            out = [self._status(action, "accepted")] + self._cancel(STOPPED, now)
            return out
        if verb == "pause":
            if not self.active:
                return [self._status(action, "failed", reason=NOTHING_RUNNING)]
            if self.paused:
                return [self._status(action, "failed", reason=ALREADY_PAUSED)]
            self.paused_at = now
            return [self._status(action, "accepted")]
        if verb == "resume":
            if not self.paused:
                return [self._status(action, "failed", reason=NOT_PAUSED)]
            self._resume(now)
            return [self._status(action, "accepted")]
        if verb == "skip":
            if self.mode != "tour":
                return [self._status(action, "failed", reason=NOTHING_RUNNING)]
            if self.paused:
                self._resume(now)
            return [self._status(action, "accepted")] + self._next_stop(now, pose)
        return [self._status(action, "failed", reason=f"未知指令 {verb}")]

    def tick(self, now: float, pose: Pose) -> list[Message]:
        """Advance glides and dwells; call every frame."""
        if self.paused or not self.active:
            return []
        out: list[Message] = []
        if self.phase == "moving" and self.flight is not None and self.flight.done(now):
            exhibit_id = self.stops[self.index]
            self.flight = None
            self.showing = exhibit_id
            out.append(self._status(self.request, "arrived", exhibit_id=exhibit_id, **self._stop_fields()))
            if self.mode == "goto":
                self._finish()
            else:
                self.phase = "dwelling"
                self.stops_seen += 1
                self.dwell_started = now
                self.dwell_until = now + self.dwell_s(exhibit_id)
        elif self.phase == "dwelling" and self.dwell_until is not None and now >= self.dwell_until:
            out += self._next_stop(now, pose)
        return out

    def cancel(self, reason: str, now: float) -> list[Message]:
        """End whatever runs (e.g. the hall is being rebuilt), saying why."""
        return self._cancel(reason, now)

    # -- what the renderer reads -----------------------------------------------
    @property
    def active(self) -> bool:
        return self.request is not None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def pose_at(self, now: float) -> Pose | None:
        """The camera pose while gliding (frozen while paused), else None."""
        if self.flight is None:
            return None
        return self.flight.pose_at(self.paused_at if self.paused else now)

    def dwell_elapsed(self, now: float) -> float | None:
        if self.phase != "dwelling" or self.dwell_started is None:
            return None
        return (self.paused_at if self.paused else now) - self.dwell_started

    # -- internals ----------------------------------------------------------------
    def _goto(self, action: GuideAction, now: float, pose: Pose) -> list[Message]:
        exhibit_id = action.exhibit_id
        if not exhibit_id or exhibit_id not in self.titles or self.pose_of(exhibit_id) is None:
            return [self._status(action, "failed", exhibit_id=exhibit_id, reason=UNKNOWN_EXHIBIT)]
        out = self._cancel(SUPERSEDED, now)
        self.request, self.mode, self.stops, self.index = action, "goto", [exhibit_id], 0
        out.append(self._status(action, "accepted", exhibit_id=exhibit_id))
        out += self._start_stop(now, pose)
        return out

    def _tour(self, action: GuideAction, now: float, pose: Pose) -> list[Message]:
        wanted = list(action.route) if action.route else list(self.default_route())
        stops = [s for s in wanted if s in self.titles and self.pose_of(s) is not None]
        if not stops:
            return [self._status(action, "failed", reason=EMPTY_ROUTE)]
        out = self._cancel(SUPERSEDED, now)
        self.request, self.mode, self.stops, self.index, self.stops_seen = action, "tour", stops, 0, 0
        unknown = [s for s in wanted if s not in stops]
        reason = f"{UNKNOWN_EXHIBIT}已跳过：{'、'.join(unknown)}" if unknown else None
        out.append(self._status(action, "accepted", reason=reason, stops_total=len(stops)))
        out += self._start_stop(now, pose)
        return out

    def _start_stop(self, now: float, pose: Pose) -> list[Message]:
        exhibit_id = self.stops[self.index]
        target = self.pose_of(exhibit_id)
        if target is None:  # vanished in a hot reload
            return self._next_stop(now, pose)
        self.phase = "moving"
        self.showing = None
        self.dwell_started = self.dwell_until = None
        self.flight = make_flight(pose, target, now, self.planner)
        return [self._status(self.request, "moving", exhibit_id=exhibit_id, **self._stop_fields())]

    def _next_stop(self, now: float, pose: Pose) -> list[Message]:
        if self.mode == "tour" and self.index + 1 < len(self.stops):
            self.index += 1
            return self._start_stop(now, pose)
        if self.mode == "tour":
            out: list[Message] = [self._status(self.request, "completed", stops_total=len(self.stops))]
            out.append(ExhibitView(site_id=self.site_id, device_id=self.hall_id, event="tour_completed",
                                   stops_seen=self.stops_seen, ts=now))
            self._finish()
            return out
        # skip during a goto ends it like an arrival without the view.
        self._finish()
        return []

    def _cancel(self, reason: str, now: float) -> list[Message]:
        if not self.active:
            return []
        out: list[Message] = [self._status(self.request, "cancelled", reason=reason,
                                           exhibit_id=self.stops[self.index] if self.stops else None)]
        if self.mode == "tour":
            out.append(ExhibitView(site_id=self.site_id, device_id=self.hall_id, event="tour_abandoned",
                                   stops_seen=self.stops_seen, ts=now))
        self._finish()
        self.showing = None
        return out

    def _finish(self) -> None:
        self.request = None
        self.mode = None
        self.phase = "idle"
        self.flight = None
        self.paused_at = None
        self.dwell_started = self.dwell_until = None

    def _resume(self, now: float) -> None:
        held = now - (self.paused_at or now)
        if self.flight is not None:
            self.flight.t0 += held
        if self.dwell_until is not None:
            self.dwell_until += held
        if self.dwell_started is not None:
            self.dwell_started += held
        self.paused_at = None

    def _stop_fields(self) -> dict[str, int]:
        if self.mode != "tour":
            return {}
        return {"stop_index": self.index, "stops_total": len(self.stops)}

    def _status(self, action: GuideAction | None, state: str, *, exhibit_id: str | None = None,
                reason: str | None = None, stop_index: int | None = None,
                stops_total: int | None = None) -> GuideStatus:
        assert action is not None  # internal invariant: a status always answers a request
        return GuideStatus(site_id=self.site_id, hall_id=self.hall_id, request_id=action.request_id,
                           state=state, exhibit_id=exhibit_id,
                           exhibit_title=self.titles.get(exhibit_id) if exhibit_id else None,
                           reason=reason, stop_index=stop_index, stops_total=stops_total)


def looking_at(pose: Pose, target: tuple[float, float], max_distance: float = 4.5, cos_min: float = 0.9) -> bool:
    """Whether a visitor at ``pose`` is looking at a point close enough to read it."""
    dx, dy = target[0] - pose.x, target[1] - pose.y
    dist = math.hypot(dx, dy)
    if dist > max_distance or dist < 1e-6:
        return dist < 1e-6
    fx, fy = heading_vector(pose.h)
    return (fx * dx + fy * dy) / dist >= cos_min
