"""The conversation: turns an utterance plus the session's memory into a reply.

Pure logic: no audio, no broker. The service feeds it text and carries out
what the reply asks for (speak, send a guide action, end the session).

Follow-ups only make sense right after the robot asked something, so the
session remembers what it offered (candidate answers, candidate exhibits, an
offer to lead the way) for exactly one turn.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .knowledge import KnowledgeBase
from .nlu import IntentRecognizer, Understanding, is_affirmation, is_denial, ordinal_choice

MAX_NOT_UNDERSTOOD = 3

GREETING = "您好！我是党建展厅的讲解机器人。您可以问我展厅和党史的问题，也可以说“带我去遵义会议”或者“开始导览”。"
GOODBYE = "不客气，祝您参观愉快，再见！"
UNKNOWN = "抱歉，这个问题我还不会回答。您可以问我展厅开放时间、党史知识，或者让我带您去看展品。"
EMPTY_KB = "抱歉，我的知识库还是空的，暂时不能回答问题。请联系工作人员。"
NOTHING_TO_REPEAT = "我还没有说过话呢。请问有什么可以帮您？"
STOPPED = "好的。"
REPHRASE = "好的，请您换个说法再问一次。"
TOUR = "好的，我们开始参观，请跟我来。"


@dataclass(frozen=True)
class GuideRequest:
    action: str  # goto | tour | stop
    exhibit_id: str | None = None
    route: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Reply:
    intent: str
    text: str
    answer_id: str | None = None
    exhibit_id: str | None = None
    score: float | None = None
    guide: GuideRequest | None = None
    end_reason: str | None = None  # nominal | not_understood | ...: the session ends after this reply
    stop_speech: bool = False
    candidates: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "answer_id": self.answer_id, "exhibit_id": self.exhibit_id,
                "score": None if self.score is None else round(self.score, 4), "text": self.text,
                "candidates": list(self.candidates),
                "guide": None if self.guide is None else {"action": self.guide.action,
                                                          "exhibit_id": self.guide.exhibit_id}}


@dataclass
class Session:
    """What one visitor and the robot have said so far."""

    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float = field(default_factory=time.monotonic)
    last_active: float = field(default_factory=time.monotonic)
    last_text: str | None = None
    offered_answers: tuple[str, ...] = ()
    offered_exhibits: tuple[str, ...] = ()
    offered_goto: str | None = None
    not_understood: int = 0
    turns: int = 0

    def clear_offers(self) -> None:
        self.offered_answers, self.offered_exhibits, self.offered_goto = (), (), None

    def idle_for(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.last_active


class DialogueManager:
    def __init__(self, kb: KnowledgeBase, recognizer: IntentRecognizer | None = None, *, encoder="use") -> None:
        self.kb = kb
        self.recognizer = recognizer or IntentRecognizer(kb, encoder=encoder)

    # -- the one entry point ---------------------------------------------------
    def respond(self, text: str, session: Session | None = None) -> Reply:
        session = session if session is not None else Session()
        session.turns += 1
        session.last_active = time.monotonic()
        reply = self._follow_up(text, session)
        if reply is None:
            session.clear_offers()
            reply = self._fresh(text, session)
        if reply.intent in ("unknown",) or (reply.intent == "goto" and reply.exhibit_id is None):
            session.not_understood += 1
        elif reply.intent not in ("repeat", "stop"):
            session.not_understood = 0
        if session.not_understood >= MAX_NOT_UNDERSTOOD and reply.end_reason is None:
            reply = _replace(reply, end_reason="not_understood",
                             text=reply.text + "如果需要帮助，请联系服务台的工作人员。")
        if reply.intent != "repeat" and reply.text:
            session.last_text = reply.text
        return reply

    # -- follow-ups to what the robot just offered -----------------------------
    def _follow_up(self, text: str, session: Session) -> Reply | None:
        if not (session.offered_answers or session.offered_exhibits or session.offered_goto):
            return None
        choice = ordinal_choice(text)
        if choice is None and is_affirmation(text):
            choice = 1
        if choice is not None:
            if session.offered_goto and choice == 1:
                exhibit_id = session.offered_goto
                session.clear_offers()
                return self._goto(exhibit_id, "goto", 1.0)
            options = session.offered_answers or session.offered_exhibits
            if options:
                index = len(options) - 1 if choice == -1 else choice - 1
                if 0 <= index < len(options):
                    picked = options[index]
                    from_answers = bool(session.offered_answers)
                    session.clear_offers()
                    if from_answers:
                        faq = self.kb.faq(picked)
                        return Reply("faq", faq.answer if faq else UNKNOWN, answer_id=picked, score=1.0)
                    return self._goto(picked, "goto", 1.0)
        if is_denial(text):
            session.clear_offers()
            return Reply("ask_back", REPHRASE, score=0.0)
        return None

    # -- a new request ---------------------------------------------------------
    def _fresh(self, text: str, session: Session) -> Reply:
        if self.kb.empty:
            return Reply("unknown", EMPTY_KB, score=0.0)
        u = self.recognizer.understand(text)
        handler = getattr(self, f"_on_{u.intent}")
        return handler(u, session)

    def _on_stop(self, u: Understanding, session: Session) -> Reply:
        return Reply("stop", STOPPED, score=1.0, stop_speech=True, guide=GuideRequest("stop"))

    def _on_repeat(self, u: Understanding, session: Session) -> Reply:
        return Reply("repeat", session.last_text or NOTHING_TO_REPEAT, score=1.0, stop_speech=True)

    def _on_greeting(self, u: Understanding, session: Session) -> Reply:
        return Reply("greeting", GREETING, score=1.0)

    def _on_goodbye(self, u: Understanding, session: Session) -> Reply:
        return Reply("goodbye", GOODBYE, score=1.0, end_reason="nominal", stop_speech=True)

    def _on_tour(self, u: Understanding, session: Session) -> Reply:
        if not self.kb.exhibits:
            return Reply("tour", "抱歉，展厅里还没有可以参观的展品。", score=1.0)
        route = tuple(e.id for e in self.kb.exhibits)
        return Reply("tour", TOUR, score=1.0, stop_speech=True, guide=GuideRequest("tour", route=route))

    def _on_goto(self, u: Understanding, session: Session) -> Reply:
        if u.exhibit_id:
            return self._goto(u.exhibit_id, "goto", u.score)
        names = [self.kb.exhibit(e).title for e in u.exhibit_candidates if self.kb.exhibit(e)]
        session.offered_exhibits = tuple(u.exhibit_candidates)
        heard = f"“{u.phrase}”" if u.phrase else "您说的展品"
        if not names:
            return Reply("goto", f"抱歉，展厅里没有找到{heard}。", score=0.0)
        return Reply("goto", f"抱歉，展厅里没有找到{heard}。您是想去{_choices(names)}吗？", score=0.0,
                     candidates=tuple(u.exhibit_candidates))

    def _goto(self, exhibit_id: str, intent: str, score: float) -> Reply:
        exhibit = self.kb.exhibit(exhibit_id)
        title = exhibit.title if exhibit else exhibit_id
        return Reply(intent, f"好的，请跟我来，我带您去看“{title}”。", exhibit_id=exhibit_id, score=score,
                     stop_speech=True, guide=GuideRequest("goto", exhibit_id=exhibit_id))

    def _on_where(self, u: Understanding, session: Session) -> Reply:
        exhibit = self.kb.exhibit(u.exhibit_id)
        if exhibit is None:
            return Reply("unknown", UNKNOWN, score=0.0)
        place = f"在“{exhibit.section}”展区" if exhibit.section else "在展厅里"
        session.offered_goto = exhibit.id
        return Reply("where", f"“{exhibit.title}”{place}。需要我带您过去吗？", exhibit_id=exhibit.id, score=u.score)

    def _on_faq(self, u: Understanding, session: Session) -> Reply:
        faq = self.kb.faq(u.answer_id)
        return Reply("faq", faq.answer if faq else UNKNOWN, answer_id=u.answer_id, exhibit_id=u.exhibit_id,
                     score=u.score, stop_speech=True, candidates=tuple(c.faq_id for c in u.candidates))

    def _on_ask_back(self, u: Understanding, session: Session) -> Reply:
        questions = [c.question.rstrip("？?。") for c in u.candidates[:3]]
        session.offered_answers = tuple(c.faq_id for c in u.candidates[:3])
        if len(questions) == 1:
            text = f"您是想问“{questions[0]}”吗？"
        else:
            rest = "；".join(f"第{_ORDINAL_WORDS[i]}个，“{q}”" for i, q in enumerate(questions[1:], start=1))
            text = f"您是想问“{questions[0]}”吗？也可能是：{rest}。请说“是的”或者第几个。"
        return Reply("ask_back", text, exhibit_id=u.exhibit_id, score=u.score,
                     candidates=tuple(c.faq_id for c in u.candidates[:3]))

    def _on_unknown(self, u: Understanding, session: Session) -> Reply:
        exhibit = self.kb.exhibit(u.exhibit_id)
        if exhibit is not None and exhibit.caption:
            # A question about an exhibit the FAQ does not cover: say what the exhibit is.
            session.offered_goto = exhibit.id
            caption = exhibit.caption if exhibit.caption.endswith(("。", "！", "？", ".")) else exhibit.caption + "。"
            return Reply("faq", f"{caption}需要我带您去看“{exhibit.title}”吗？", exhibit_id=exhibit.id,
                         score=u.score)
        return Reply("unknown", UNKNOWN, exhibit_id=u.exhibit_id, score=u.score)


_ORDINAL_WORDS = "一二三四五"


def _choices(names: list[str]) -> str:
    quoted = [f"“{n}”" for n in names]
    if len(quoted) == 1:
        return quoted[0]
    return "、".join(quoted[:-1]) + "还是" + quoted[-1]


def _replace(reply: Reply, **changes: Any) -> Reply:
    from dataclasses import replace

    return replace(reply, **changes)


def progress_text(state: str, title: str | None, *, reason: str | None = None, stop_index: int | None = None,
                  stops_total: int | None = None, caption: str = "") -> str | None:
    """What the robot says for a guide lifecycle event from the hall."""
    name = f"“{title}”" if title else "目的地"
    if state == "moving":
        if stop_index is not None and stops_total:
            return f"正在带您前往第{stop_index + 1}站，{name}。"
        return f"正在带您前往{name}。"
    if state == "arrived":
        return f"已到达{name}。" + (caption if caption else "")
    if state == "cancelled":
        return "好的，已停止前往。"
    if state == "failed":
        return f"抱歉，暂时无法前往{name}" + (f"：{reason}。" if reason else "。")
    if state == "completed":
        return "参观结束，感谢您的聆听。"
    return None
