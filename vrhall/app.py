"""The running hall: camera, walking, picking, the guide, subtitles, the
minimap and stereo (drawn by ``overlay`` and ``stereo``). Everything Panda3D arrives through the ShowBase passed in,
so tests build it on an offscreen buffer; per-frame work is one named task.

Network traffic never touches this module directly: guide actions arrive on a
thread-safe queue (filled by the MQTT thread) and outgoing messages leave
through a ``publish`` callable.
"""

from __future__ import annotations

import logging
import math
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from broker.messages import DialogueTurn, GuideAction, Message
from content.model import Exhibit, Manifest

from .analytics import DwellTracker, exhibit_in_view
from .guide import GuideMachine
from .geometry import Pose
from .joystick import inside as stick_inside
from .joystick import stick_vector
from .layout import HallLayout
from .paths import plan_path
from .narration import narration_seconds, subtitle_at, subtitles
from .route import RoutePlan, content_route
from .overlay import Overlay
from .scene import BuildReport, HallBuilder
from .stereo import StereoRig

log = logging.getLogger(__name__)

WALK_SPEED = 2.2      # m/s
TURN_SPEED = 90.0     # deg/s
SNAP_TURN = 30.0      # deg, comfort option for headsets
RADIUS = 0.3


def exhibits_of(manifest: Manifest | None) -> list[Exhibit]:
    return list(manifest.of_kind("exhibit")) if manifest else []


@dataclass
class HallApp:
    base: object                                   # ShowBase
    builder: HallBuilder
    site_id: str = "local"
    hall_id: str = "vrhall"
    publish: Callable[[Message], None] = lambda m: None
    inbox: "queue.Queue[object]" = field(default_factory=queue.Queue)
    clock: Callable[[], float] = time.monotonic
    stereo: bool = False
    interactive: bool = True
    narrator: object = None  # anything with say(text) and interrupt(), e.g. robot.tts.Speaker

    report: BuildReport | None = None
    exhibits: dict[str, Exhibit] = field(default_factory=dict)
    pose: Pose = field(default_factory=lambda: Pose(0, 0, 0))
    guide: GuideMachine | None = None
    dwell: DwellTracker | None = None
    overlay: Overlay | None = None
    rig: StereoRig | None = None
    gaze_seconds: float = 2.5
    _keys: dict[str, bool] = field(default_factory=dict)
    _subs: list = field(default_factory=list)
    _subs_start: float = 0.0
    _subs_follow_guide: bool = True
    _gaze: tuple[str | None, float] = (None, 0.0)
    _events: list[str] = field(default_factory=list)
    _stick_at: tuple[tuple[float, float], float] | None = None
    _stick_held: bool = False
    stick_input: tuple[float, float] = (0.0, 0.0)  # (forward, turn) from the touch joystick

    def __post_init__(self) -> None:
        self.dwell = DwellTracker(site_id=self.site_id, device_id=self.hall_id)
        base = self.base
        lens = base.camLens
        lens.setFov(60)
        lens.setNear(0.05)
        lens.setFar(70)  # walls hide what is further; culling drops those rooms
        base.disableMouse()
        base.setBackgroundColor(0.12, 0.08, 0.06, 1)
        aspect = base.getAspectRatio() if hasattr(base, "getAspectRatio") else 16 / 9
        self.overlay = Overlay(base.aspect2d, base.render2d, self.builder.font, aspect)
        self.rig = StereoRig(base.win, base.camera, base.cam)
        if self.stereo:
            self.enable_stereo()
        if self.interactive:
            self._bind_keys()
            self.overlay.add_controls(self.local)
            self._stick_at = self.overlay.add_joystick()
        base.taskMgr.add(self._frame, "vrhall-frame")

    # -- content ------------------------------------------------------------------
    @property
    def layout(self) -> HallLayout | None:
        return self.report.layout if self.report else None

    def load(self, exhibits: Sequence[Exhibit], route: "RoutePlan | None" = None) -> BuildReport:
        """Build (or rebuild) the hall. The visitor keeps their place when
        their room still exists after the rebuild. ``route`` is the tour from
        content; without it the tour is chronological."""
        old_layout = self.layout
        keep: tuple[tuple[str, int], float, float] | None = None
        if old_layout is not None:
            room = old_layout.room_at(self.pose.x, self.pose.y)
            if room is not None:
                keep = (room.key, self.pose.x - room.bounds.x0, self.pose.y - room.bounds.y0)
        if self.guide is not None and self.guide.active:
            now = self.clock()
            for message in self.guide.cancel("展厅内容已更新", now):
                self.publish(message)
        if self.report is not None:
            self.report.root.removeNode()
        self.exhibits = {e.id: e for e in exhibits}
        self.report = self.builder.build(list(exhibits), parent=self.base.render)
        layout = self.report.layout
        for note in self.report.skipped:
            log.info("vrhall: %s", note)
        plan = route or RoutePlan()
        planned = [i for i in plan.stops if layout.placement(i)]

        def dwell(exhibit_id: str) -> float:
            return plan.dwell_of(exhibit_id) or max(6.0, narration_seconds(self._narration(exhibit_id)) + 1.5)

        self.guide = GuideMachine(
            site_id=self.site_id, hall_id=self.hall_id,
            titles={i: e.title for i, e in self.exhibits.items() if layout.placement(i)},
            pose_of=lambda i: layout.placement(i).view if layout.placement(i) else None,
            default_route=(lambda: planned) if planned else layout.route,
            dwell_s=dwell,
            planner=lambda a, b: plan_path(layout, (a.x, a.y), (b.x, b.y)),
        )
        pose = layout.entrance
        if keep is not None:
            room = layout.room_by_key(keep[0])
            if room is not None:
                x, y = room.bounds.x0 + keep[1], room.bounds.y0 + keep[2]
                pose = Pose(x, y, self.pose.h) if not layout.blocked(x, y, RADIUS) else room.entry_pose(layout.spec)
        self.overlay.draw_minimap(layout)
        if self.stereo:
            self.overlay.minimap.hide()
        self.set_pose(pose)
        self.close_card()
        return self.report

    def load_manifest(self, manifest: Manifest) -> BuildReport:
        return self.load(exhibits_of(manifest), content_route(manifest))

    def _narration(self, exhibit_id: str) -> str:
        e = self.exhibits.get(exhibit_id)
        if e is None:
            return ""
        return e.narration or e.caption or e.title

    # -- camera --------------------------------------------------------------------
    def set_pose(self, pose: Pose) -> None:
        self.pose = pose
        self.base.camera.setPos(pose.x, pose.y, pose.z)
        self.base.camera.setHpr(pose.h, pose.p, 0)
        self.overlay.place_marker(pose)

    def goto_exhibit_now(self, exhibit_id: str) -> bool:
        """Stand in front of an exhibit at once (screenshots, --at)."""
        p = self.layout.placement(exhibit_id) if self.layout else None
        if p is None:
            return False
        self.set_pose(p.view)
        self.open_card(exhibit_id)
        return True

    def fly_to(self, exhibit_id: str) -> None:
        self.handle(GuideAction(site_id=self.site_id, hall_id=self.hall_id, action="goto",
                                exhibit_id=exhibit_id, requested_by="screen"))

    def handle(self, action: GuideAction) -> None:
        if self.guide is None:
            return
        for message in self.guide.handle(action, self.clock(), self.pose):
            self.publish(message)

    def local(self, verb: str) -> None:
        """Keyboard / on-screen control of the guide."""
        if verb == "toggle":
            verb = "resume" if self.guide and self.guide.paused else "pause"
        self.handle(GuideAction(site_id=self.site_id, hall_id=self.hall_id, action=verb, requested_by="screen"))

    # -- per frame -------------------------------------------------------------------
    def _frame(self, task):
        now = self.clock()
        self._drain_inbox()
        dt = min(0.1, self.base.clock.getDt()) if hasattr(self.base, "clock") else 1 / 60
        if self.guide is not None:
            glide = self.guide.pose_at(now)
            flight = self.guide.flight
            self.overlay.set_fade(1.0 - abs(2.0 * flight.progress(now) - 1.0) if flight is not None and flight.jump else 0.0)
            if glide is not None:
                self.set_pose(glide)
            elif self.interactive:
                self._walk(dt)
            for message in self.guide.tick(now, self.pose):
                self.publish(message)
                if getattr(message, "state", None) == "arrived" and message.exhibit_id:
                    self.open_card(message.exhibit_id)
            self._update_subtitle(now)
        if self.layout is not None:
            seen = exhibit_in_view(self.pose, (p for p in self.layout.placements
                                               if abs(p.x - self.pose.x) < 6 and abs(p.y - self.pose.y) < 6))
            for message in self.dwell.update(now, seen):
                self.publish(message)
            if self.stereo and self.guide is not None and not self.guide.active:
                self._update_gaze(now)
        return task.cont

    def _update_gaze(self, now: float) -> None:
        """In a headset there is no mouse: looking at an exhibit for a few
        seconds selects it, like a click."""
        origin, direction = self.view_ray()
        hit = self.layout.pick(origin, direction, max_distance=8.0)
        target = hit.exhibit_id if hit else None
        if target != self._gaze[0]:
            self._gaze = (target, now)
        elif target is not None and now - self._gaze[1] >= self.gaze_seconds and self.guide.showing != target:
            self._gaze = (None, now)
            self.fly_to(target)

    def _drain_inbox(self) -> None:
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, GuideAction):
                self.handle(item)
            elif isinstance(item, DialogueTurn):
                self.show_dialogue(item)
            elif isinstance(item, Manifest):
                self.load_manifest(item)
            elif callable(item):
                item()

    def _read_stick(self) -> None:
        if not self._stick_held or self._stick_at is None:
            return
        (cx, cy), radius = self._stick_at
        mx, my = self._mouse()
        point = (mx * self.overlay.aspect, my)
        self.stick_input = stick_vector((cx, cy), radius, point)
        fwd, turn = self.stick_input
        self.overlay.move_knob((-turn * radius * 0.6, fwd * radius * 0.6))

    def _press(self) -> None:
        """Mouse or finger down: on the joystick it steers, elsewhere it picks."""
        if self._stick_at is not None:
            (cx, cy), radius = self._stick_at
            mx, my = self._mouse()
            if stick_inside((cx, cy), radius, (mx * self.overlay.aspect, my)):
                self._stick_held = True
                return
        self.click()

    def _release(self) -> None:
        self._stick_held = False
        self.stick_input = (0.0, 0.0)
        self.overlay.move_knob((0.0, 0.0))

    def _walk(self, dt: float) -> None:
        self._read_stick()
        k = self._keys
        stick_forward, stick_turn = self.stick_input
        turn = (k.get("left", False) - k.get("right", False) + stick_turn) * TURN_SPEED * dt
        forward = (k.get("forward", False) - k.get("back", False) + stick_forward) * WALK_SPEED * dt
        strafe = (k.get("strafe_right", False) - k.get("strafe_left", False)) * WALK_SPEED * dt
        if not (turn or forward or strafe):
            return
        h = self.pose.h + turn
        fx, fy = -math.sin(math.radians(h)), math.cos(math.radians(h))
        dx, dy = fx * forward + fy * strafe, fy * forward - fx * strafe
        x, y = self.layout.move(self.pose.x, self.pose.y, dx, dy, RADIUS)
        self.set_pose(Pose(x, y, h, self.pose.z, self.pose.p))
        if forward or strafe:
            self.close_card()

    # -- input -----------------------------------------------------------------------
    def _accept(self, event: str, handler, args: list | None = None) -> None:
        self.base.accept(event, handler, args or [])
        self._events.append(event)

    def _bind_keys(self) -> None:
        base = self.base
        pairs = {"w": "forward", "arrow_up": "forward", "s": "back", "arrow_down": "back",
                 "a": "strafe_left", "d": "strafe_right", "arrow_left": "left", "arrow_right": "right"}
        for key, name in pairs.items():
            self._accept(key, self._keys.__setitem__, [name, True])
            self._accept(f"{key}-up", self._keys.__setitem__, [name, False])
        self._accept("q", self.snap_turn, [SNAP_TURN])
        self._accept("e", self.snap_turn, [-SNAP_TURN])
        self._accept("mouse1", self._press)
        self._accept("mouse1-up", self._release)
        self._accept("g", self.teleport)
        self._accept("t", self.local, ["tour"])
        self._accept("p", self.local, ["toggle"])
        self._accept("space", self.local, ["toggle"])
        self._accept("n", self.local, ["skip"])
        self._accept("escape", self.local, ["stop"])
        self._accept("f3", self.toggle_stereo)
        # Gamepads: Panda3D's device manager, if one is plugged in.
        try:
            from panda3d.core import InputDevice

            for device in base.devices.getDevices(InputDevice.DeviceClass.gamepad):
                base.attachInputDevice(device, prefix="pad")
            self._accept("pad-face_a", self.click)
            self._accept("pad-face_b", self.local, ["stop"])
            self._accept("pad-lshoulder", self.snap_turn, [SNAP_TURN])
            self._accept("pad-rshoulder", self.snap_turn, [-SNAP_TURN])
            self._accept("pad-dpad_up", self._keys.__setitem__, ["forward", True])
            self._accept("pad-dpad_up-up", self._keys.__setitem__, ["forward", False])
            self._accept("pad-dpad_down", self._keys.__setitem__, ["back", True])
            self._accept("pad-dpad_down-up", self._keys.__setitem__, ["back", False])
        except Exception:  # no device manager on this platform: keyboard and mouse only
            log.debug("vrhall: no gamepad support", exc_info=True)

    def snap_turn(self, degrees: float) -> None:
        self.set_pose(Pose(self.pose.x, self.pose.y, self.pose.h + degrees, self.pose.z, self.pose.p))

    def view_ray(self, mx: float = 0.0, my: float = 0.0) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """World ray through a point of the screen (-1..1), centre by default."""
        from panda3d.core import Point2, Point3

        near, far = Point3(), Point3()
        self.base.camLens.extrude(Point2(mx, my), near, far)
        render = self.base.render
        a = render.getRelativePoint(self.base.cam, near)
        b = render.getRelativePoint(self.base.cam, far)
        d = b - a
        d.normalize()
        return (a.x, a.y, a.z), (d.x, d.y, d.z)

    def _mouse(self) -> tuple[float, float]:
        mw = getattr(self.base, "mouseWatcherNode", None)
        if mw is not None and mw.hasMouse():
            return mw.getMouseX(), mw.getMouseY()
        return 0.0, 0.0

    def click(self) -> str | None:
        """Click (or gaze with the centre of view): fly to the exhibit hit."""
        if self.layout is None:
            return None
        origin, direction = self.view_ray(*self._mouse())
        hit = self.layout.pick(origin, direction)
        if hit is not None:
            self.fly_to(hit.exhibit_id)
            return hit.exhibit_id
        return None

    def teleport(self) -> bool:
        """Comfort option: jump to the floor point under the pointer."""
        if self.layout is None:
            return False
        origin, direction = self.view_ray(*self._mouse())
        point = self.layout.floor_point(origin, direction)
        if point is None or math.hypot(point[0] - self.pose.x, point[1] - self.pose.y) > 12:
            return False
        room = self.layout.room_at(*point)
        if room is None or self.layout.blocked(point[0], point[1], RADIUS):
            return False
        self.set_pose(Pose(point[0], point[1], self.pose.h, self.pose.z))
        return True

    # -- overlay: detail card, subtitles, minimap ------------------------------------
    # -- detail card and narration -------------------------------------------------------
    def open_card(self, exhibit_id: str) -> None:
        exhibit = self.exhibits.get(exhibit_id)
        if exhibit is None:
            return
        self.overlay.show_card(exhibit)
        self._subs = subtitles(self._narration(exhibit_id))
        self._subs_start = self.clock()
        self._subs_follow_guide = True
        if self.narrator is not None:
            self.narrator.interrupt()
            self.narrator.say(self._narration(exhibit_id))

    def show_dialogue(self, turn: DialogueTurn) -> None:
        """What the guide robot says (and hears) runs as subtitles here too."""
        speaker = "讲解员" if turn.role == "robot" else "观众"
        self._subs = subtitles(f"{speaker}：{turn.text}")
        self._subs_start = self.clock()
        self._subs_follow_guide = False

    def close_card(self) -> None:
        self.overlay.hide_card()
        if self.narrator is not None and self._subs:
            self.narrator.interrupt()
        self._subs = []

    def _update_subtitle(self, now: float) -> None:
        if not self._subs:
            return
        # During a tour stop the subtitles follow the dwell (they pause with it).
        elapsed = self.guide.dwell_elapsed(now) if self.guide is not None and self._subs_follow_guide else None
        if elapsed is None:
            elapsed = now - self._subs_start
        self.overlay.set_subtitle(subtitle_at(self._subs, elapsed))

    def subtitle_text(self) -> str:
        return self.overlay.subtitle_text()

    def minimap_marker(self) -> tuple[float, float]:
        return self.overlay.marker_position()

    # -- stereo ----------------------------------------------------------------------
    @property
    def stereo_active(self) -> bool:
        return self.rig is not None and self.rig.active

    def enable_stereo(self) -> None:
        self.rig.enable()
        self.overlay.to_view(self.base.camera)
        self.stereo = True

    def disable_stereo(self) -> None:
        self.rig.disable()
        self.overlay.to_screen()
        self.stereo = False

    def toggle_stereo(self) -> None:
        self.disable_stereo() if self.stereo else self.enable_stereo()

    def destroy(self) -> None:
        """Remove everything this hall put into the ShowBase (tests share one)."""
        self.base.taskMgr.remove("vrhall-frame")
        for event in self._events:
            self.base.ignore(event)
        if self.report is not None:
            self.report.root.removeNode()
        if self.stereo:
            self.disable_stereo()
        self.overlay.destroy()

    # -- output ----------------------------------------------------------------------
    def render_frames(self, n: int = 2) -> None:
        for _ in range(n):
            self.base.taskMgr.step()

    def screenshot(self, path: Path) -> Path:
        from panda3d.core import Filename

        self.render_frames(3)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.base.win.saveScreenshot(Filename.fromOsSpecific(str(path))):
            raise RuntimeError(f"截图失败：{path}")
        return path


def make_base(*, offscreen: bool, size: tuple[int, int] = (1280, 720), title: str = "党史展厅",
              fps: float | None = None):
    """A ShowBase configured before it starts (the PRC must come first).

    ``fps`` caps the frame loop: without vsync a software renderer would
    otherwise take a whole core, and a headless hall only needs to keep
    answering the guide (a few frames a second do)."""
    from panda3d.core import loadPrcFileData

    lines = ["audio-library-name null", "sync-video false", "text-encoding utf8",
             f"win-size {size[0]} {size[1]}", f"window-title {title}"]
    if fps:
        lines += ["clock-mode limited", f"clock-frame-rate {fps}"]
    if offscreen:
        lines += ["window-type offscreen", "load-display p3tinydisplay", "aux-display p3headlessgl"]
    loadPrcFileData("vrhall", "\n".join(lines))
    from direct.showbase.ShowBase import ShowBase

    return ShowBase(windowType="offscreen" if offscreen else None)
