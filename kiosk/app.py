"""The kiosk application: one window, a stack of screens, overlays on top.

Everything from outside (manifest, alerts, dialogue, attendance, connection,
commands) arrives as custom pygame events (``kiosk.events``) and only updates
``KioskState``; screens read the state when they draw. Timers advance by the
``dt`` passed to ``step`` so tests drive time deterministically.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pygame

from broker.messages import DialogueTurn, EmergencyAlert, PlayRecord
from content.model import Manifest

from . import events
from .commands import CommandRequest
from .config import KioskConfig
from .durable import DiskWriter
from .framestats import FrameStats
from .gestures import GestureTracker
from .images import ImageCache, MediaResolver
from .outbox import PointsOutbox
from .playlog import PlayLog
from .render import TextRenderer
from .screens.chrome import draw_header
from .screens.overlays import draw_alert, draw_subtitles, draw_toast
from .state import KioskState, ShownAlert
from .theme import load_theme
from .widgets import ButtonBar

log = logging.getLogger(__name__)

SCREENS = {
    "home": "kiosk.screens.home:HomeScreen",
    "news": "kiosk.screens.news:NewsScreen",
    "notices": "kiosk.screens.notices:NoticesScreen",
    "detail": "kiosk.screens.detail:DetailScreen",
    "education": "kiosk.screens.education:EducationScreen",
    "quiz": "kiosk.screens.quiz_screen:QuizScreen",
    "signin": "kiosk.screens.signin:SignInScreen",
    "ranking": "kiosk.screens.ranking_board:RankingScreen",
    "meetings": "kiosk.screens.meetings_screen:MeetingsScreen",
    "checkin_board": "kiosk.screens.checkin_board:CheckInBoardScreen",
    "services": "kiosk.screens.services:ServicesScreen",
    "dues": "kiosk.screens.dues_screen:DuesScreen",
    "guide": "kiosk.screens.guide:GuideScreen",
    "map": "kiosk.screens.orgmap:MapScreen",
    "honours": "kiosk.screens.collection:HonoursScreen",
    "archive": "kiosk.screens.collection:ArchiveScreen",
    "stats": "kiosk.screens.stats_screen:StatsScreen",
    "attract": "kiosk.screens.attract:AttractScreen",
}


def init_display(config: KioskConfig) -> pygame.Surface:
    if config.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    pygame.display.init()
    pygame.font.init()
    flags = pygame.FULLSCREEN if config.fullscreen and not config.headless else 0
    surface = pygame.display.set_mode(config.size, flags)
    pygame.display.set_caption("智慧党建 触屏终端")
    pygame.mouse.set_visible(not config.fullscreen)
    return surface


class KioskApp:
    def __init__(self, config: KioskConfig, *, manifest: Manifest | None = None,
                 resolver: MediaResolver | None = None, surface: pygame.Surface | None = None,
                 clock=None, wall_time=None, monotonic=None) -> None:
        self.config = config
        self.surface = surface or init_display(config)
        self.size = self.surface.get_size()
        self.theme = load_theme(config.theme_path)
        self.text = TextRenderer()
        data_dir = Path(config.data_dir)
        self.images = ImageCache(resolver or (lambda sha: None), data_dir / "images",
                                 max_side=max(self.size))
        self.state = KioskState(config.device_id, config.site_id, ZoneInfo(config.timezone), data_dir,
                                manifest=manifest, clock=clock)
        if wall_time is not None:
            self.state.wall_time = wall_time
        if monotonic is not None:
            self.state.monotonic = monotonic
        self.state.restore_alert()
        # Outbox writes are fsynced on this writer's thread: the frame loop never waits for the disk.
        self.disk = DiskWriter()
        self.playlog = PlayLog(data_dir / "playlog", writer=self.disk)
        self.outbox = PointsOutbox(data_dir / "outbox", writer=self.disk)
        self.toast: tuple[str, float] | None = None  # message, seconds left
        self.gestures = GestureTracker(self.size)
        self.chrome = ButtonBar()
        self.frames = FrameStats()
        self.screens: dict[str, object] = {}
        self.stack: list[str] = []
        self.idle = 0.0
        self.dirty = True
        self.running = True
        self.restart_requested = False
        self._last_second = -1
        self._last_minute = ""
        self._pending_tap: float | None = None
        self.tap_latencies_ms: list[float] = []
        self.telemetry: dict = {}
        self._viewing: tuple | None = None
        self.navigate("home")

    # -- geometry ---------------------------------------------------------------
    @property
    def portrait(self) -> bool:
        return self.size[1] > self.size[0]

    def content_rect(self) -> pygame.Rect:
        m = self.theme.s("margin")
        top = self.theme.s("header_h")
        return pygame.Rect(m, top + m // 2, self.size[0] - 2 * m, self.size[1] - top - m)

    # -- screens ----------------------------------------------------------------
    def screen(self, name: str):
        if name not in self.screens:
            module, cls = SCREENS[name].split(":")
            self.screens[name] = getattr(importlib.import_module(module), cls)(self, name)
        return self.screens[name]

    @property
    def current_name(self) -> str:
        return self.stack[-1]

    @property
    def current(self):
        return self.screen(self.current_name)

    def navigate(self, name: str, **params) -> None:
        if name not in SCREENS:
            log.warning("unknown screen %s", name)
            return
        self._end_view()
        if name == "home":
            self.stack = ["home"]
        elif self.stack and self.stack[-1] == name:
            pass
        else:
            self.stack.append(name)
        try:
            self.screen(name).enter(**params)
        except Exception:
            # A broken item must not blank the screen: fall back home.
            log.exception("screen %s failed to open", name)
            self.stack = ["home"]
            self.screen("home").enter()
        self.dirty = True

    def back(self) -> None:
        self._end_view()
        if len(self.stack) > 1:
            self.stack.pop()
        self.screen(self.current_name).resume()
        self.dirty = True

    # -- proof of play ----------------------------------------------------------
    def viewing(self, item) -> None:
        """An item became visible; its play record is written when it goes away."""
        self._end_view()
        self._viewing = (item.id, getattr(item, "version_sha256", None), time.time(), self.current_name)

    def _end_view(self) -> None:
        if self._viewing is None:
            return
        item_id, version, started, screen = self._viewing
        self._viewing = None
        try:
            self.playlog.record(PlayRecord(item_id=item_id, version_sha256=version, started_at=started,
                                           duration_s=max(0.0, time.time() - started), screen=screen))
        except OSError:
            log.exception("cannot write play record")

    # -- events -----------------------------------------------------------------
    def idle_limit(self) -> float:
        if self.config.idle_s is not None:
            return self.config.idle_s
        manifest = self.state.manifest
        value = manifest.settings.get("idle_s") if manifest else None
        return float(value) if isinstance(value, (int, float)) and value > 0 else self.theme.t("idle_s", 90)

    def handle(self, event: pygame.event.Event) -> bool:
        try:
            return self._handle(event)
        except Exception:
            log.exception("event %s failed; the screen stays up", pygame.event.event_name(event.type))
            self.dirty = True
            return False

    def _handle(self, event: pygame.event.Event) -> bool:
        if event.type == pygame.QUIT:
            self.running = False
            return True
        if event.type in events.OUTSIDE:
            self._outside(event)
            self.dirty = True
            return True
        if event.type in (pygame.MOUSEBUTTONDOWN, pygame.FINGERDOWN, pygame.MOUSEBUTTONUP, pygame.FINGERUP,
                          pygame.KEYDOWN):
            self.idle = 0.0
        gesture = self.gestures.feed(event) if event.type not in (events.TAP, events.SWIPE) else event
        if gesture is None:
            return False
        self.idle = 0.0
        self.dirty = True
        self._pending_tap = time.perf_counter()
        if self.alert_active():
            return True  # the alert owns the screen until it expires or is cancelled
        if self.current_name == "attract":
            self.navigate("home")
            return True
        if gesture.type == events.TAP and self.chrome.tap(gesture.pos):
            return True
        return bool(self.current.process_event(gesture))

    def _outside(self, event: pygame.event.Event) -> None:
        data = event.data
        if event.type == events.MANIFEST_APPLIED and isinstance(data, Manifest):
            self.state.manifest = data
            self.images.clear()
            for screen in self.screens.values():
                screen.content_changed()
            log.info("manifest %s v%s applied on screen", data.group, data.version)
        elif event.type == events.ALERT_CHANGED:
            self.set_alert(data)
        elif event.type == events.DIALOGUE and isinstance(data, DialogueTurn):
            turns = [t for t in self.state.dialogue if t.session_id == data.session_id]
            self.state.dialogue = (turns + [data])[-2:]
            self.state.dialogue_age = 0.0
        elif event.type == events.ATTENDANCE:
            self.state.record_attendance(data)
        elif event.type == events.CONNECTION:
            self.state.online = bool(data)
        elif event.type == events.POINTS_RESULT:
            self.state.points_acks.append(data)
            self.outbox.ack_later(data.event_id)
            if data.accepted:
                total = f"，累计 {data.total} 分" if data.total is not None else ""
                self.show_toast(f"学习积分已记录{total}")
            else:
                self.show_toast(f"积分未记录：{data.reason or '请核对党员编号和密码'}")
        elif event.type == events.COMMAND and isinstance(data, CommandRequest):
            self.run_command(data)

    def set_alert(self, alert: EmergencyAlert | ShownAlert | None) -> None:
        """Take over (or give back) the screen. Acknowledging on the broker is
        the Endpoint's job (``content.endpoint``), which sees the alert first
        and hands over a ``ShownAlert`` with the deadline it counts itself."""
        state = self.state
        previous = state.alert
        shown = state.receive_alert(alert) if alert is not None else None
        if shown is not None and shown.active(state.monotonic()):
            state.show_alert(shown)
        elif previous is not None and (shown is None or shown.alert.alert_id == previous.alert_id):
            state.show_alert(None)
        else:
            return
        self.state.save_alert()
        self.dirty = True

    def show_toast(self, message: str, seconds: float = 5.0) -> None:
        self.toast = (message, seconds)
        self.dirty = True

    def alert_active(self) -> bool:
        return self.state.alert_active()

    def run_command(self, request: CommandRequest) -> None:
        name = request.name
        if name == "screenshot":
            self.draw()
            request.done(png=self.png_bytes(), screen=self.current_name)
        elif name == "show_item":
            manifest = self.state.manifest
            item = manifest.item(str(request.args.get("item_id", ""))) if manifest else None
            if item is None:
                request.fail("没有这个内容")
                return
            self.idle = 0.0
            self.navigate("detail", item=item)
            request.done(screen=self.current_name, item_id=item.id)
        elif name == "reload":
            self.images.clear()
            for screen in self.screens.values():
                screen.content_changed()
            self.navigate("home")
            request.done(screen="home")
        elif name == "restart":
            self.restart_requested = True
            self.running = False
            request.done(restarting=True)
        else:
            request.fail(f"unknown command {name}")

    # -- time -------------------------------------------------------------------
    def step(self, dt: float) -> None:
        self.idle += dt
        state = self.state
        if state.alert is not None and not state.alert_active():
            self.set_alert(None)
        if state.dialogue:
            state.dialogue_age += dt
            if state.dialogue_age > self.theme.t("subtitle_s", 12):
                state.dialogue = []
                self.dirty = True
        if self.toast is not None:
            message, left = self.toast
            self.toast = (message, left - dt) if left - dt > 0 else None
            if self.toast is None:
                self.dirty = True
        if self.current_name != "attract" and not self.alert_active() and self.idle >= self.idle_limit():
            # A public screen: whoever walked away is signed out.
            self.state.member = None
            self.navigate("attract")
        try:
            if self.current.update(dt):
                self.dirty = True
        except Exception:
            log.exception("screen %s update failed", self.current_name)
        second = int(time.time())
        if second != self._last_second:
            self._last_second = second
            self._refresh_telemetry()
            minute = self.state.now().strftime("%Y%m%d%H%M")
            if minute != self._last_minute:
                # The clock shows minutes: an idle screen is redrawn once a minute.
                self._last_minute = minute
                self.dirty = True

    def animating(self) -> bool:
        return self.current.animating() and not self.alert_active()

    # -- drawing ----------------------------------------------------------------
    def draw(self) -> None:
        started = time.perf_counter()
        surface = self.surface
        theme = self.theme
        self.chrome.reset()
        surface.fill(theme.c("bg"))
        screen = self.current
        try:
            screen.bar.reset()
            if screen.fullscreen:
                screen.draw(surface, surface.get_rect())
            else:
                screen.draw(surface, self.content_rect())
                draw_header(self, screen)
        except Exception:
            log.exception("screen %s failed to draw; showing a notice instead", self.current_name)
            surface.fill(theme.c("bg"))
            draw_header(self, screen)
            self.text.draw(surface, "内容暂时无法显示，请返回首页", surface.get_rect().center, theme.s("font_h1"),
                           theme.c("muted"), anchor="center")

        if self.state.dialogue and not self.alert_active():
            draw_subtitles(self, surface)
        if self.toast is not None and not self.alert_active():
            draw_toast(self, surface, self.toast[0])
        if self.alert_active():
            self.chrome.reset()
            draw_alert(self, surface)
        self.dirty = False
        elapsed = (time.perf_counter() - started) * 1000
        self.frames.add(elapsed, time.time())
        if self._pending_tap is not None:
            self.tap_latencies_ms.append((time.perf_counter() - self._pending_tap) * 1000)
            self._pending_tap = None

    # -- loop -------------------------------------------------------------------
    def render(self) -> None:
        """Draw what changed and put it on the display."""
        if self.dirty:
            self.draw()
            pygame.display.flip()
        elif self.animating():
            partial = getattr(self.current, "draw_animation", None)
            if partial is None or self.state.dialogue or self.toast or self.current_name in ("attract",):
                self.draw()
                pygame.display.flip()
                return
            started = time.perf_counter()
            rect = partial(self.surface)
            if rect is not None:
                pygame.display.update(rect)
            self.frames.add((time.perf_counter() - started) * 1000, time.time())

    def pump(self, dt: float = 1 / 30) -> None:
        """Process queued events, advance time by ``dt`` and draw if needed."""
        for event in pygame.event.get():
            self.handle(event)
        self.step(dt)
        self.render()

    def run(self, max_seconds: float | None = None) -> None:
        clock_start = last = time.perf_counter()
        while self.running:
            if self.animating():
                pygame.time.wait(max(0, int(1000 / 60 - (time.perf_counter() - last) * 1000)))
                batch = pygame.event.get()
            else:
                # Sleep until an event arrives or a timer is due: idle CPU stays near zero.
                timeout = max(10, int(1000 - (time.time() % 1) * 1000))
                if self.current.update_soon():
                    timeout = min(timeout, 250)
                batch = self._wait_events(timeout)
            for event in batch:
                self.handle(event)
            now = time.perf_counter()
            self.step(now - last)
            last = now
            self.render()
            if max_seconds is not None and now - clock_start >= max_seconds:
                break

    def _wait_events(self, timeout_ms: int) -> list:
        if pygame.display.get_driver() not in ("dummy", "offscreen"):
            first = pygame.event.wait(timeout_ms)
            return ([first] if first.type != pygame.NOEVENT else []) + pygame.event.get()
        # SDL's dummy driver cannot block in SDL_WaitEventTimeout (it polls
        # every millisecond, ~2 % of a core): sleep and poll at 30 Hz instead.
        deadline = time.perf_counter() + timeout_ms / 1000
        while True:
            batch = pygame.event.get()
            if batch or time.perf_counter() >= deadline:
                return batch
            time.sleep(min(1 / 30, max(0.0, deadline - time.perf_counter())))

    def close(self, timeout: float = 10.0) -> bool:
        """Record what is on screen and wait for the outbox writes (at exit)."""
        self._end_view()
        return self.disk.flush(timeout)

    # -- output -----------------------------------------------------------------
    def screenshot(self, path: Path | str) -> Path:
        self.draw()
        pygame.image.save(self.surface, str(path))
        return Path(path)

    def png_bytes(self) -> bytes:
        buffer = io.BytesIO()
        pygame.image.save(self.surface, buffer, "screen.png")
        return buffer.getvalue()

    def find(self, label: str):
        """The visible button with this label or key (for scripts and tests)."""
        if self.dirty:
            self.draw()
        return self.chrome.find(label) or self.current.bar.find(label)

    def _refresh_telemetry(self) -> None:
        self.telemetry = {
            "fps": round(self.frames.fps(time.time()), 2),
            "frame_p99_ms": round(self.frames.p(0.99), 3),
            "screen": self.current_name,
        }
