"""The check-in agent: camera frames in, CheckIn messages and greetings out.

Frame work (detection, embeddings) runs in a worker thread so the MQTT loop
stays responsive; the agent only needs ``publish`` (thread-safe) and, when it is
attached to a ``HallClient``, the ``CheckInAck`` subscription. Nothing about a
face is kept beyond the frame: check-ins carry ids, names and a distance.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from broker.messages import CheckIn, CheckInAck
from content.model import Meeting

from .checkin import Confirmer, Cooldown, greeting, is_late, open_meeting
from .config import FaceConfig
from .errors import CameraError
from .gallery import Gallery
from .outbox import CheckInOutbox
from .pipeline import FacePipeline

log = logging.getLogger(__name__)

MSG_NO_MEETING = "当前没有可签到的会议"
MSG_UNKNOWN = "未能识别，请联系会务人员手工签到"
MSG_ALREADY = "{name}同志，您已签到"
MSG_MOVE = "请看向摄像头并缓慢转动头部"
MSG_SPOOF = "活体检测未通过，请本人到场签到"


@dataclass
class CheckInEvent:
    checkin: CheckIn
    greeting: str
    meeting: Meeting


@dataclass
class AgentStats:
    frames: int = 0
    processed: int = 0
    faces: int = 0
    unknown: int = 0
    checkins: int = 0
    camera_errors: int = 0
    messages: list[str] = field(default_factory=list)


class CheckInAgent:
    """``publish`` and ``status`` are called from the frame worker thread (HallClient's
    publish is thread-safe; a screen's status callback must be too, e.g. post an event);
    ``greet`` is awaited on the event loop when it is a coroutine function, else called there."""

    def __init__(
        self,
        *,
        config: FaceConfig,
        site_id: str,
        device_id: str,
        pipeline: FacePipeline,
        gallery: Gallery,
        meetings: Callable[[], Iterable[Meeting]],
        outbox: CheckInOutbox,
        publish: Callable[[Any], Any],
        greet: Callable[[str], Any] | None = None,
        status: Callable[[str], Any] | None = None,
        place: str | None = None,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        liveness_factory: Callable[[], Any] | None = None,
        confirmations: int = 2,
    ) -> None:
        self.config = config
        self.site_id = site_id
        self.device_id = device_id
        self.pipeline = pipeline
        self.gallery = gallery
        self.meetings = meetings
        self.outbox = outbox
        self.publish = publish
        self.greet = greet
        self.status_cb = status
        self.place = place
        self.wall_clock = wall_clock
        self.monotonic = monotonic
        self.stats = AgentStats()
        self._confirmer = Confirmer(needed=confirmations, window=3.0)
        self._say_once = Cooldown(8.0)
        self._last_sent: dict[str, float] = {}
        if liveness_factory is None and config.liveness != "off":
            from .liveness import MotionLiveness

            liveness_factory = lambda: MotionLiveness.from_config(config)  # noqa: E731
        self._liveness_factory = liveness_factory
        self._liveness: dict[str, tuple[Any, float]] = {}

    # -- messages to people ---------------------------------------------------------
    def _status(self, text: str, key: str | None = None) -> None:
        if not self._say_once.ready(key or text, self.monotonic()):
            return
        self.stats.messages.append(text)
        log.info("%s", text)
        if self.status_cb is not None:
            try:
                self.status_cb(text)
            except Exception:  # the screen must not stop check-in
                log.exception("status callback failed")

    # -- one frame --------------------------------------------------------------------
    def process_frame(self, frame: np.ndarray) -> list[CheckInEvent]:
        self.stats.processed += 1
        wall = self.wall_clock()
        now = dt.datetime.fromtimestamp(wall, dt.timezone.utc)
        try:
            meeting = open_meeting(self.meetings(), now=now, device_id=self.device_id, place=self.place,
                                   open_before=dt.timedelta(minutes=self.config.open_before_minutes))
        except Exception:
            log.exception("会议列表无法读取")
            meeting = None
        if meeting is None:
            # No meeting, no face processing: faces are looked at only when needed.
            self._status(MSG_NO_MEETING)
            return []
        result = self.pipeline.analyse(frame)
        if result.problem:
            self._status(result.problem)
        events = []
        mono = self.monotonic()
        for face in result.faces:
            self.stats.faces += 1
            match = self.gallery.search(face.vector)
            if match.member is None:
                self.stats.unknown += 1
                self._status(MSG_UNKNOWN)
                continue
            member = match.member
            if self.outbox.already_checked_in(meeting.id, member.member_id):
                self._status(MSG_ALREADY.format(name=member.name), key=f"already:{member.member_id}")
                continue
            if self._liveness_factory is not None and not self._is_live(member.member_id, frame, face, mono):
                continue
            if not self._confirmer.observe(member.member_id, mono):
                continue
            checkin = CheckIn(site_id=self.site_id, device_id=self.device_id, meeting_id=meeting.id,
                              member_id=member.member_id, member_name=member.name, method="face",
                              score=round(match.distance, 4), ts=wall,
                              late=is_late(meeting, now, grace=dt.timedelta(minutes=self.config.late_after_minutes)))
            if not self.outbox.add(checkin):
                continue
            self._confirmer.forget(member.member_id)
            self._send(checkin)
            self.stats.checkins += 1
            text = greeting(self.config.greeting, name=member.name, meeting=meeting)
            events.append(CheckInEvent(checkin, text, meeting))
            log.info("签到: %s %s 会议 %s%s", member.member_id, member.name, meeting.id, " (迟到)" if checkin.late else "")
        return events

    def _is_live(self, member_id: str, frame: np.ndarray, face, mono: float) -> bool:
        tracker, last = self._liveness.get(member_id, (None, 0.0))
        if tracker is None or mono - last > 3.0:
            tracker = self._liveness_factory()
        self._liveness[member_id] = (tracker, mono)
        verdict = tracker.update(frame, face.box)
        if verdict is None:
            self._status(MSG_MOVE, key=f"move:{member_id}")
            return False
        if not verdict.live:
            log.warning("活体检测未通过: %s (%s)", member_id, verdict)
            self._status(MSG_SPOOF, key=f"spoof:{member_id}")
            self._liveness.pop(member_id, None)
            return False
        return True

    # -- delivery -----------------------------------------------------------------------
    def _send(self, checkin: CheckIn) -> None:
        self._last_sent[checkin.checkin_id] = self.monotonic()
        try:
            self.publish(checkin)
        except Exception:  # still on disk: the next resend delivers it
            log.exception("签到发送失败，稍后重发")

    def resend_pending(self, *, force: bool = False) -> int:
        """Publish unacked check-ins again (same ids); returns how many were sent."""
        sent, mono = 0, self.monotonic()
        for checkin in self.outbox.pending():
            last = self._last_sent.get(checkin.checkin_id)
            if force or last is None or mono - last >= self.config.resend_seconds:
                self._send(checkin)
                sent += 1
        return sent

    def handle_ack(self, ack: CheckInAck) -> bool:
        if ack.device_id != self.device_id:
            return False
        removed = self.outbox.ack(ack.checkin_id)
        self._last_sent.pop(ack.checkin_id, None)
        if removed and not ack.accepted:
            log.warning("管理端拒收签到 %s: %s", ack.checkin_id, ack.reason)
        return removed

    def attach(self, client) -> None:
        """Subscribe to acks and resend the outbox whenever the broker comes back."""

        async def on_ack(ack: CheckInAck) -> None:
            self.handle_ack(ack)

        client.subscribe(CheckInAck, on_ack, device_id=self.device_id)
        client.connection_listeners.append(lambda up: self.resend_pending(force=True) if up else None)

    # -- the loop ------------------------------------------------------------------------
    async def run(self, source, *, stop: asyncio.Event | None = None) -> AgentStats:
        """Read frames until ``stop`` is set or a video file ends."""
        stop = stop or asyncio.Event()
        self.resend_pending(force=True)
        last_resend = self.monotonic()
        while not stop.is_set():
            try:
                frame = await asyncio.to_thread(source.read)
            except CameraError as exc:
                self.stats.camera_errors += 1
                self._status(str(exc), key="camera")
                await asyncio.sleep(0.2)
                continue
            if frame is None:
                break
            self.stats.frames += 1
            if self.stats.frames % self.config.process_every_n_frames:
                continue
            try:
                events = await asyncio.to_thread(self.process_frame, frame)
            except Exception:
                log.exception("处理画面失败，继续运行")
                continue
            for event in events:
                await self._greet(event.greeting)
            # Reading the outbox directory every frame would be waste; once a second is plenty.
            if self.monotonic() - last_resend >= 1.0:
                last_resend = self.monotonic()
                self.resend_pending()
        return self.stats

    async def _greet(self, text: str) -> None:
        if self.greet is None:
            return
        try:
            result = self.greet(text)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("问候语播放失败")
