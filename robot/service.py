"""The robot process: hears a visitor, answers, and leads the way in the hall.

Shape (after rhasspy's hermes services): the broker client only hands
messages to the asyncio loop; ``RobotService`` owns the dialogue session and
publishes what happens as messages (DialogueSession start/continue/end,
DialogueTurn for subtitles, GuideAction for the hall); engines (speaker,
recogniser) are passed in, so tests run the real ones or none.

Sessions follow Hermes: one session per visitor, ``started`` on the first
question, ``continued`` on each later turn, ``ended`` with a reason:
``nominal`` (goodbye), ``timeout`` (silence for the session timeout),
``not_understood`` (three misses in a row), ``error``. A session handed to
another device (a kiosk) ends with ``moved_to``; one handed to this robot
is adopted under the same session id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from broker.messages import DialogueSession, DialogueTurn, GuideAction, GuideStatus

from .dialogue import DialogueManager, Reply, Session, progress_text
from .knowledge import KnowledgeBase

log = logging.getLogger(__name__)

TERMINAL = {"arrived", "cancelled", "failed", "completed"}


class Client(Protocol):
    def publish(self, message: Any) -> Any: ...
    def subscribe(self, cls: type, handler: Callable[..., Any], **topic_args: str) -> str: ...


class SpeakerLike(Protocol):
    def say(self, text: str) -> None: ...
    def interrupt(self) -> None: ...


class NullClient:
    """No broker (``--once``): messages are only logged."""

    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, message: Any) -> None:
        self.published.append(message)

    def subscribe(self, cls: type, handler: Callable[..., Any], **topic_args: str) -> str:
        return ""


@dataclass
class PendingGuide:
    action: str
    exhibit_id: str | None
    session_id: str | None
    sent_at: float = field(default_factory=time.monotonic)


class RobotService:
    def __init__(self, *, site_id: str, device_id: str, client: Client, kb: KnowledgeBase,
                 speaker: SpeakerLike | None = None, hall_id: str = "hall-1", session_timeout: float = 60.0,
                 guide_expiry: float = 30.0, on_say: Callable[[str], None] | None = None,
                 manager: DialogueManager | None = None, encoder: str = "use") -> None:
        self.site_id, self.device_id, self.hall_id = site_id, device_id, hall_id
        self.client = client
        self.speaker = speaker
        self.on_say = on_say
        self.session_timeout = session_timeout
        self.guide_expiry = guide_expiry
        self.kb = kb
        self.encoder = encoder
        self.manager = manager or DialogueManager(kb, encoder=encoder)
        self.session: Session | None = None
        self.pending: dict[str, PendingGuide] = {}
        self.spoken: list[str] = []  # everything said, in order (for the CLI and tests)
        self._lock = asyncio.Lock()

    # -- wiring --------------------------------------------------------------------------
    def subscribe(self) -> None:
        self.client.subscribe(GuideStatus, self.on_guide_status, hall_id=self.hall_id)
        self.client.subscribe(DialogueSession, self.on_session_message)

    def set_kb(self, kb: KnowledgeBase, manager: DialogueManager | None = None) -> None:
        """A new knowledge base (a manifest was applied). The manager is built
        by the caller off the loop: indexing and jieba take about a second."""
        self.kb = kb
        self.manager = manager or DialogueManager(kb, encoder=self.encoder)
        log.info("knowledge base %s: %d FAQ entries, %d exhibits", kb.source, len(kb.faqs), len(kb.exhibits))

    # -- speaking ------------------------------------------------------------------------
    def say(self, text: str) -> None:
        if not text:
            return
        self.spoken.append(text)
        if self.on_say is not None:
            self.on_say(text)
        if self.speaker is not None:
            self.speaker.say(text)

    def _turn(self, role: str, text: str, reply: Reply | None = None, session_id: str | None = None) -> None:
        self.client.publish(DialogueTurn(
            site_id=self.site_id, robot_id=self.device_id,
            session_id=session_id or (self.session.session_id if self.session else "none"),
            role=role, text=text[:4000], intent=reply.intent if reply else None,
            answer_id=reply.answer_id if reply else None, exhibit_id=reply.exhibit_id if reply else None,
            score=reply.score if reply else None))

    def _session_event(self, event: str, *, end_reason: str | None = None, moved_to: str | None = None) -> None:
        if self.session is None:
            return
        self.client.publish(DialogueSession(site_id=self.site_id, robot_id=self.device_id,
                                            session_id=self.session.session_id, event=event,
                                            end_reason=end_reason, moved_to=moved_to))

    # -- a visitor's utterance -------------------------------------------------------------
    async def handle_text(self, text: str) -> Reply | None:
        text = text.strip()
        if not text:
            return None
        async with self._lock:
            # A new question silences whatever the robot was saying.
            if self.speaker is not None:
                self.speaker.interrupt()
            self.expire_session()
            if self.session is None:
                self.session = Session()
                self._session_event("started")
            else:
                self._session_event("continued")
            self._turn("visitor", text)
            try:
                reply = self.manager.respond(text, self.session)
            except Exception:  # noqa: BLE001 - one bad turn must not end the robot
                log.exception("dialogue failed on %r", text)
                reply = Reply("unknown", "抱歉，我出了点问题，请再问一次。", end_reason="error")
            self._turn("robot", reply.text, reply)
            self.say(reply.text)
            if reply.guide is not None:
                self._send_guide(reply)
            if reply.end_reason is not None:
                self.end_session(reply.end_reason)
            return reply

    def _send_guide(self, reply: Reply) -> None:
        guide = reply.guide
        if guide is None:
            return
        if guide.action == "stop" and not self.pending:
            return  # nothing to stop in the hall
        action = GuideAction(site_id=self.site_id, hall_id=self.hall_id, action=guide.action,
                             exhibit_id=guide.exhibit_id, route=list(guide.route) if guide.route else None,
                             requested_by=self.device_id,
                             session_id=self.session.session_id if self.session else None,
                             expires_at=time.time() + self.guide_expiry)
        if guide.action in ("goto", "tour"):
            self.pending[action.request_id] = PendingGuide(guide.action, guide.exhibit_id, action.session_id)
        self.client.publish(action)

    def end_session(self, reason: str, *, moved_to: str | None = None) -> None:
        self._session_event("ended", end_reason=reason, moved_to=moved_to)
        self.session = None

    def expire_session(self, now: float | None = None) -> bool:
        if self.session is not None and self.session.idle_for(now) >= self.session_timeout:
            self.end_session("timeout")
            return True
        return False

    def hand_over(self, device_id: str) -> None:
        """The visitor continues on another device (e.g. a kiosk)."""
        if self.session is not None:
            self.end_session("nominal", moved_to=device_id)

    # -- messages from the hall and other devices ------------------------------------------
    async def on_guide_status(self, status: GuideStatus) -> None:
        pending = self.pending.get(status.request_id)
        if pending is None:
            return  # another robot's or kiosk's request
        exhibit = self.kb.exhibit(status.exhibit_id or pending.exhibit_id)
        title = status.exhibit_title or (exhibit.title if exhibit else None)
        caption = exhibit.caption if (exhibit is not None and status.state == "arrived") else ""
        text = progress_text(status.state, title, reason=status.reason, stop_index=status.stop_index,
                             stops_total=status.stops_total, caption=caption)
        done = status.state in TERMINAL and not (pending.action == "tour" and status.state == "arrived")
        if done:
            self.pending.pop(status.request_id, None)
        if text:
            self._turn("robot", text, Reply("guide", text, exhibit_id=status.exhibit_id), pending.session_id)
            self.say(text)

    async def on_session_message(self, message: DialogueSession) -> None:
        if message.moved_to != self.device_id or message.robot_id == self.device_id:
            return
        async with self._lock:
            if self.session is not None:
                self.end_session("abort")
            self.session = Session(session_id=message.session_id)
            self._session_event("continued")
            log.info("session %s handed over from %s", message.session_id, message.robot_id)

    def idle(self) -> bool:
        return not self.pending
