"""The running hall: camera, walking, picking, the guide, subtitles, the
minimap, stereo. Everything Panda3D arrives through the ShowBase passed in,
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

from broker.messages import GuideAction, Message
from content.model import Exhibit, Manifest

from .analytics import DwellTracker, exhibit_in_view
from .guide import GuideMachine
from .layout import HallLayout, Pose, plan_path
from .narration import narration_seconds, subtitle_at, subtitles
from .scene import BuildReport, HallBuilder

log = logging.getLogger(__name__)

WALK_SPEED = 2.2      # m/s
TURN_SPEED = 90.0     # deg/s
SNAP_TURN = 30.0      # deg, comfort option for headsets
RADIUS = 0.3
EYE_SEPARATION = 0.064


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

    report: BuildReport | None = None
    exhibits: dict[str, Exhibit] = field(default_factory=dict)
    pose: Pose = field(default_factory=lambda: Pose(0, 0, 0))
    guide: GuideMachine | None = None
    dwell: DwellTracker | None = None
    _keys: dict[str, bool] = field(default_factory=dict)
    _card: object = None
    _subtitle: object = None
    _minimap: object = None
    _marker: object = None
    _subs: list = field(default_factory=list)
    _subs_start: float = 0.0
    _stereo_cams: list = field(default_factory=list)
    _buttons: list = field(default_factory=list)
    _gaze: tuple[str | None, float] = (None, 0.0)
    gaze_seconds: float = 2.5

    def __post_init__(self) -> None:
        self.dwell = DwellTracker(site_id=self.site_id, device_id=self.hall_id)
        base = self.base
        lens = base.camLens
        lens.setFov(60)
        lens.setNear(0.05)
        lens.setFar(70)  # walls hide what is further; culling drops those rooms
        base.disableMouse()
        base.setBackgroundColor(0.12, 0.08, 0.06, 1)
        self._build_overlay()
        if self.stereo:
            self.enable_stereo()
        if self.interactive:
            self._bind_keys()
            self._build_controls()
        base.taskMgr.add(self._frame, "vrhall-frame")

    # -- content ------------------------------------------------------------------
    @property
    def layout(self) -> HallLayout | None:
        return self.report.layout if self.report else None

    def load(self, exhibits: Sequence[Exhibit]) -> BuildReport:
        """Build (or rebuild) the hall. The visitor keeps their place when
        their room still exists after the rebuild."""
        old_layout = self.layout
        keep: tuple[tuple[str, int], float, float] | None = None
        if old_layout is not None:
            room = old_layout.room_at(self.pose.x, self.pose.y)
            if room is not None:
                keep = (room.key, self.pose.x - room.bounds.x0, self.pose.y - room.bounds.y0)
        if self.guide is not None and self.guide.active:
            now = self.clock()
            for message in self.guide._cancel("展厅内容已更新", now):
                self.publish(message)
        if self.report is not None:
            self.report.root.removeNode()
        self.exhibits = {e.id: e for e in exhibits}
        self.report = self.builder.build(list(exhibits), parent=self.base.render)
        layout = self.report.layout
        for note in self.report.skipped:
            log.info("vrhall: %s", note)
        self.guide = GuideMachine(
            site_id=self.site_id, hall_id=self.hall_id,
            titles={i: e.title for i, e in self.exhibits.items() if layout.placement(i)},
            pose_of=lambda i: layout.placement(i).view if layout.placement(i) else None,
            default_route=layout.route,
            dwell_s=lambda i: max(6.0, narration_seconds(self._narration(i)) + 1.5),
            planner=lambda a, b: plan_path(layout, (a.x, a.y), (b.x, b.y)),
        )
        pose = layout.entrance
        if keep is not None:
            room = layout.room_by_key(keep[0])
            if room is not None:
                x, y = room.bounds.x0 + keep[1], room.bounds.y0 + keep[2]
                pose = Pose(x, y, self.pose.h) if not layout.blocked(x, y, RADIUS) else room.entry_pose(layout.spec)
        self.set_pose(pose)
        self._draw_minimap()
        self.close_card()
        return self.report

    def load_manifest(self, manifest: Manifest) -> BuildReport:
        return self.load(exhibits_of(manifest))

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
        self._update_marker()
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
            elif isinstance(item, Manifest):
                self.load_manifest(item)
            elif callable(item):
                item()

    def _walk(self, dt: float) -> None:
        k = self._keys
        turn = (k.get("left", False) - k.get("right", False)) * TURN_SPEED * dt
        forward = (k.get("forward", False) - k.get("back", False)) * WALK_SPEED * dt
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
    def _bind_keys(self) -> None:
        base = self.base
        pairs = {"w": "forward", "arrow_up": "forward", "s": "back", "arrow_down": "back",
                 "a": "strafe_left", "d": "strafe_right", "arrow_left": "left", "arrow_right": "right"}
        for key, name in pairs.items():
            base.accept(key, self._keys.__setitem__, [name, True])
            base.accept(f"{key}-up", self._keys.__setitem__, [name, False])
        base.accept("q", self.snap_turn, [SNAP_TURN])
        base.accept("e", self.snap_turn, [-SNAP_TURN])
        base.accept("mouse1", self.click)
        base.accept("g", self.teleport)
        base.accept("t", self.local, ["tour"])
        base.accept("p", self.local, ["toggle"])
        base.accept("space", self.local, ["toggle"])
        base.accept("n", self.local, ["skip"])
        base.accept("escape", self.local, ["stop"])
        base.accept("f3", self.toggle_stereo)
        # Gamepads: Panda3D's device manager, if one is plugged in.
        try:
            from panda3d.core import InputDevice

            for device in base.devices.getDevices(InputDevice.DeviceClass.gamepad):
                base.attachInputDevice(device, prefix="pad")
            base.accept("pad-face_a", self.click)
            base.accept("pad-face_b", self.local, ["stop"])
            base.accept("pad-lshoulder", self.snap_turn, [SNAP_TURN])
            base.accept("pad-rshoulder", self.snap_turn, [-SNAP_TURN])
            base.accept("pad-dpad_up", self._keys.__setitem__, ["forward", True])
            base.accept("pad-dpad_up-up", self._keys.__setitem__, ["forward", False])
            base.accept("pad-dpad_down", self._keys.__setitem__, ["back", True])
            base.accept("pad-dpad_down-up", self._keys.__setitem__, ["back", False])
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
    def _build_overlay(self) -> None:
        from panda3d.core import TextNode

        a2d = self.base.aspect2d
        font = self.builder.font
        self._overlay = a2d.attachNewNode("overlay")
        card = TextNode("detail-card")
        card.setFont(font)
        card.setWordwrap(16)
        card.setTextColor(0.98, 0.93, 0.82, 1)
        card.setCardColor(0.32, 0.03, 0.02, 0.88)
        card.setCardAsMargin(0.6, 0.6, 0.5, 0.5)
        card.setFrameColor(0.86, 0.66, 0.28, 1)
        card.setFrameAsMargin(0.6, 0.6, 0.5, 0.5)
        card.setCardDecal(True)
        self._card = self.base.aspect2d.attachNewNode(card)
        self._card.setScale(0.05)
        self._card.setPos(0.95, 0, 0.78)
        self._card.hide()
        sub = TextNode("subtitle")
        sub.setFont(font)
        sub.setAlign(TextNode.ACenter)
        sub.setWordwrap(36)
        sub.setTextColor(1, 1, 1, 1)
        sub.setShadow(0.05, 0.05)
        sub.setShadowColor(0, 0, 0, 1)
        sub.setCardColor(0, 0, 0, 0.55)
        sub.setCardAsMargin(0.6, 0.6, 0.3, 0.3)
        sub.setCardDecal(True)
        self._subtitle = self.base.aspect2d.attachNewNode(sub)
        self._subtitle.setScale(0.06)
        self._subtitle.setPos(0, 0, -0.76)

    def _build_controls(self) -> None:
        """On-screen tour controls for touch tables and mice."""
        from direct.gui.DirectGui import DirectButton

        labels = (("导览", "tour"), ("暂停/继续", "toggle"), ("下一站", "skip"), ("停止", "stop"))
        aspect = self.base.getAspectRatio() if hasattr(self.base, "getAspectRatio") else 16 / 9
        for i, (label, verb) in enumerate(labels):
            button = DirectButton(text=label, text_font=self.builder.font, scale=0.05, pad=(0.4, 0.25),
                                  text_fg=(0.98, 0.86, 0.55, 1), frameColor=(0.45, 0.05, 0.04, 0.9),
                                  relief=1, command=self.local, extraArgs=[verb],
                                  pos=(aspect - 0.95 + i * 0.24, 0, -0.93), parent=self.base.aspect2d)
            self._buttons.append(button)

    def open_card(self, exhibit_id: str) -> None:
        exhibit = self.exhibits.get(exhibit_id)
        if exhibit is None:
            return
        lines = [exhibit.title]
        if exhibit.section or exhibit.year:
            lines.append(" · ".join(x for x in (exhibit.section or "", f"{exhibit.year}年" if exhibit.year else "") if x))
        if exhibit.caption:
            lines += ["", exhibit.caption[:160]]
        node = self._card.node()
        node.setText("\n".join(lines))
        # Keep the card inside the right edge whatever its width.
        aspect = self.base.getAspectRatio() if hasattr(self.base, "getAspectRatio") else 16 / 9
        self._card.setPos(aspect - 0.05 - 16 * 0.05 - 0.03, 0, 0.78)
        self._card.show()
        self._subs = subtitles(self._narration(exhibit_id))
        self._subs_start = self.clock()

    def close_card(self) -> None:
        if self._card is not None:
            self._card.hide()
        self._subs = []
        if self._subtitle is not None:
            self._subtitle.node().setText("")

    def _update_subtitle(self, now: float) -> None:
        if not self._subs:
            return
        elapsed = now - self._subs_start
        if self.guide is not None and self.guide.dwell_elapsed(now) is not None:
            elapsed = self.guide.dwell_elapsed(now)
        text = subtitle_at(self._subs, elapsed)
        node = self._subtitle.node()
        if node.getText() != text:
            node.setText(text)

    def subtitle_text(self) -> str:
        return self._subtitle.node().getText() if self._subtitle else ""

    def _draw_minimap(self) -> None:
        from panda3d.core import TextNode

        from .mesh import MeshBuilder

        if self._minimap is not None:
            self._minimap.removeNode()
        layout = self.layout
        b = layout.bounds
        size = 0.5
        scale = size / max(b.x1 - b.x0, b.y1 - b.y0)
        aspect = self.base.getAspectRatio() if hasattr(self.base, "getAspectRatio") else 16 / 9
        root = self.base.aspect2d.attachNewNode("minimap")
        root.setPos(-aspect + 0.06, 0, 0.9 - (b.y1 - b.y0) * scale)
        self._minimap = root
        self._map_scale = scale
        self._map_origin = (b.x0, b.y0)
        mesh = MeshBuilder("minimap")

        def rect(x0, y0, x1, y1, color):
            # aspect2d is the x/z plane: map y goes to z.
            mesh.quad([(x0, 0, y0), (x1, 0, y0), (x1, 0, y1), (x0, 0, y1)], (0, -1, 0), color, lit=False)

        W, H = (b.x1 - b.x0) * scale, (b.y1 - b.y0) * scale
        rect(-0.02, -0.02, W + 0.02, H + 0.02, (0.86, 0.66, 0.28, 0.9))
        rect(0, 0, W, H, (0.15, 0.05, 0.04, 0.85))
        for room in layout.rooms:
            r = room.bounds
            rect((r.x0 - b.x0) * scale + 0.004, (r.y0 - b.y0) * scale + 0.004,
                 (r.x1 - b.x0) * scale - 0.004, (r.y1 - b.y0) * scale - 0.004, (0.55, 0.1, 0.07, 0.95))
            for door in room.doors:
                dx, dy = (door.x - b.x0) * scale, (door.y - b.y0) * scale
                rect(dx - 0.008, dy - 0.008, dx + 0.008, dy + 0.008, (0.95, 0.85, 0.6, 1))
        root.attachNewNode(mesh.node())
        from panda3d.core import TransparencyAttrib

        root.setTransparency(TransparencyAttrib.MAlpha)
        label = TextNode("minimap-label")
        label.setFont(self.builder.font)
        label.setText("展厅平面图")
        label.setTextColor(0.98, 0.84, 0.5, 1)
        lab = root.attachNewNode(label)
        lab.setScale(0.035)
        lab.setPos(0, 0, H + 0.03)
        marker_mesh = MeshBuilder("you-are-here")
        marker_mesh.quad([(-0.012, 0, -0.012), (0.012, 0, -0.012), (0.012, 0, 0.012), (-0.012, 0, 0.012)],
                         (0, -1, 0), (1.0, 0.85, 0.1, 1), lit=False)
        marker_mesh.quad([(-0.004, 0, 0.0), (0.004, 0, 0.0), (0.004, 0, 0.04), (-0.004, 0, 0.04)],
                         (0, -1, 0), (1.0, 0.85, 0.1, 1), lit=False)
        self._marker = root.attachNewNode(marker_mesh.node())
        here = TextNode("you-are-here-label")
        here.setFont(self.builder.font)
        here.setText("您在这里")
        here.setTextColor(1.0, 0.9, 0.4, 1)
        self._here = root.attachNewNode(here)
        self._here.setScale(0.03)
        self._update_marker()

    def _update_marker(self) -> None:
        if self._marker is None or self.layout is None:
            return
        ox, oy = self._map_origin
        x, y = (self.pose.x - ox) * self._map_scale, (self.pose.y - oy) * self._map_scale
        self._marker.setPos(x, 0, y)
        self._marker.setR(-self.pose.h)
        self._here.setPos(x + 0.02, 0, y + 0.02)

    def minimap_marker(self) -> tuple[float, float]:
        p = self._marker.getPos()
        return (p.x, p.z)

    # -- stereo ----------------------------------------------------------------------
    def enable_stereo(self) -> None:
        """Side by side: two display regions, two cameras an eye apart."""
        base = self.base
        if self._stereo_cams:
            return
        base.cam.node().getDisplayRegion(0).setActive(False) if base.cam.node().getNumDisplayRegions() else None
        for dr in base.win.getDisplayRegions():
            if dr.getCamera() == base.cam:
                dr.setActive(False)
        from panda3d.core import Camera, PerspectiveLens

        for i, (l, r, dx) in enumerate(((0.0, 0.5, -EYE_SEPARATION / 2), (0.5, 1.0, EYE_SEPARATION / 2))):
            lens = PerspectiveLens()
            lens.setFov(80)
            lens.setNear(0.05)
            lens.setFar(200)
            lens.setAspectRatio(base.win.getXSize() / 2 / max(1, base.win.getYSize()))
            cam = base.camera.attachNewNode(Camera(f"eye-{i}", lens))
            cam.setX(dx)
            region = base.win.makeDisplayRegion(l, r, 0, 1)
            region.setCamera(cam)
            region.setSort(-1)
            self._stereo_cams.append((cam, region))
        self.stereo = True

    def disable_stereo(self) -> None:
        base = self.base
        for cam, region in self._stereo_cams:
            base.win.removeDisplayRegion(region)
            cam.removeNode()
        self._stereo_cams = []
        for dr in base.win.getDisplayRegions():
            if dr.getCamera() == base.cam:
                dr.setActive(True)
        self.stereo = False

    def toggle_stereo(self) -> None:
        self.disable_stereo() if self.stereo else self.enable_stereo()

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


def make_base(*, offscreen: bool, size: tuple[int, int] = (1280, 720), title: str = "党史展厅"):
    """A ShowBase configured before it starts (the PRC must come first)."""
    from panda3d.core import loadPrcFileData

    lines = ["audio-library-name null", "sync-video false", "text-encoding utf8",
             f"win-size {size[0]} {size[1]}", f"window-title {title}"]
    if offscreen:
        lines += ["window-type offscreen", "load-display p3tinydisplay", "aux-display p3headlessgl"]
    loadPrcFileData("vrhall", "\n".join(lines))
    from direct.showbase.ShowBase import ShowBase

    return ShowBase(windowType="offscreen" if offscreen else None)


def openvr_message() -> str | None:
    """None when OpenVR can start; else the reason, in Chinese, for the screen."""
    try:
        import p3dopenvr  # noqa: F401
    except ImportError:
        return "未安装 panda3d-openvr：已改用并排立体模式（pip install panda3d-openvr 并安装 SteamVR 后可使用头显）"
    try:
        import openvr

        if not openvr.isRuntimeInstalled() or not openvr.isHmdPresent():
            return "未检测到 SteamVR 或头显：已改用并排立体模式"
    except Exception as exc:  # openvr raises its own errors when the runtime is missing
        return f"OpenVR 无法启动（{exc}）：已改用并排立体模式"
    return None
