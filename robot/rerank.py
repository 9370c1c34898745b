"""Re-ranking the top BM25 candidates with two features BM25 does not see.

Question type. Entries about the same topic ("长征是从哪一年开始的" /
"长征一共走了多少里") share most of their words, so BM25 ranks them close
together; what tells them apart is what kind of answer is wanted: a time, a
place, a quantity, a reason. The type is read from the visitor's question and
from each candidate entry's questions; agreeing candidates move up,
disagreeing ones down.

Topic coverage. A question names what it is about ("中华人民共和国是哪天成立的",
"井冈山根据地是哪一年创建的"); an entry that never mentions that name, in its
questions or its answer, is about something else however well the question
shape matches ("……是哪一年成立的" is also the founding of the party). Only
discriminating terms count: ones that some, but few, entries mention, so
shared words (党, 展厅) never penalise. Words the hall does not know at all are
the unknown-noun guard's business (nlu.py), not this one's.

Both run on the canonical text (after synonym folding).
"""

from __future__ import annotations

import re
from dataclasses import replace

from .chinese import NAMED_CANONICALS, PARTY_TERMS
from .retrieval import Candidate
from .textnorm import normalize

QUESTION_TYPES: dict[str, re.Pattern[str]] = {
    "time": re.compile(r"何时|几点|开始|出发|结束|开门|闭馆|多少年|持续|历时"),
    "place": re.compile(r"哪里"),
    # 收费 is where "多少钱" folds to: a price is a quantity, and a price too.
    "quantity": re.compile(r"多少(?!年)|多远|多长|几个|总数|人数|收费|标准|百分之|几成"),
    "price": re.compile(r"收费"),
    "duration": re.compile(r"多久"),
    "reason": re.compile(r"意义|为什么|为何|精神|确立|解决"),
    "how": re.compile(r"怎么|申请|办理"),
    "contact": re.compile(r"电话|号码|热线|联系方式"),
    "person": re.compile(r"谁|哪位|哪几位|哪些人|什么人"),
    # The number itself ("电话号码是多少"), not which line to call.
    "number": re.compile(r"号码|电话是多少|电话多少|多少号"),
}
# Types an entry offers when its answer carries them (a phone number), though
# none of its questions asks for them.
ANSWER_TYPES = ("contact",)

# A year, and the month after it if given: history is asked by date
# ("1949年10月1日那天发生了什么"), and a date names its event better than words do.
_DATE = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)年(?:(\d{1,2})月)?")


def dates(text: str) -> set[tuple[str, str | None]]:
    return {(year, month or None) for year, month in _DATE.findall(normalize(text))}


# "交给谁", "找谁": a body or a desk answers "who" as well as a name does.
_WHO_ELSE = re.compile(r"支部|党组织|党委|委员会|中心|窗口|服务台|工作人员|讲解员|代表")

# What an answer has to contain to answer a question of a type that none of
# its entry's questions asks: "遵义会议开了几天" wants a length of time, and
# "遵义会议于1935年1月召开" gives a date. Matched on the normalised answer
# (Arabic digits). Lengths of time and quantities; not times, which an
# event's date anywhere in the answer gives.
ANSWER_SHAPES: dict[str, re.Pattern[str]] = {
    "duration": re.compile(r"(?<!\d)\d{1,3}(个)?(小时|分钟|天|年|个月)|[一二三四五六七八九十两半]+(个)?(小时|分钟|天|年|个月)|历时"),
    # A number that is not part of a date or a clock time ("九千多万名",
    # "二万五千里"); "哪几个" asks which, and is not asked for here.
    "number": re.compile(r"\d{3,}[-\d]*"),
    "quantity": re.compile(r"\d+(\.\d+)?(?![\d.]*(年|月|日|号|:|点))|[一二三四五六七八九十两百千万]+(人|名|个|里|公里|万)"),
}
# Wordings that look like asking how many but ask which ("哪几个会", folded
# to 哪多少), or how many years (a time, which a date answers).
_NOT_QUANTITY = re.compile(r"哪几|哪多少|那几|那多少|哪些|多少年")


QUESTION_WORDS = frozenset("何时 哪里 怎么 多少 多久 多远 什么 为什么 几点 哪个 哪些 怎么样 是否 如何 可以 需要 能够".split())


def question_types(canonical_text: str) -> frozenset[str]:
    return frozenset(name for name, pattern in QUESTION_TYPES.items() if pattern.search(canonical_text))


class TypeReranker:
    def __init__(self, entry_types: dict[str, frozenset[str]], *, bonus: float = 0.08, penalty: float = 0.08,
                 entry_text: dict[str, str] | None = None, terms=None, topic_penalty: float = 0.2,
                 topic_share: float = 0.3, answers: dict[str, str] | None = None,
                 people: dict[str, bool] | None = None) -> None:
        self.entry_types = entry_types
        self.answers = answers or {}
        self.people = people or {}  # whether an entry's answer names a person or a body
        self.entry_dates: dict[str, set[tuple[str, str | None]]] = {}
        self.date_bonus = 0.1
        self.bonus, self.penalty = bonus, penalty
        self.entry_text = entry_text or {}
        self._terms = terms
        self.topic_penalty = topic_penalty
        self.topic_share = topic_share

    @classmethod
    def for_ranker(cls, ranker, **kw) -> "TypeReranker":
        types, answers, people = {}, {}, {}
        for faq in ranker.kb.faqs:
            answers[faq.id] = normalize(faq.answer)
            people[faq.id] = bool(ranker.words.people(faq.answer)) or bool(_WHO_ELSE.search(faq.answer))
            found: set[str] = set()
            for question in faq.questions:
                found |= question_types(ranker.canon(question))
            found |= question_types(ranker.canon(faq.answer)) & set(ANSWER_TYPES)
            types[faq.id] = frozenset(found)
        named = {ranker.canon(n).replace(" ", "") for n in (*PARTY_TERMS, *NAMED_CANONICALS, *ranker.kb.terms,
                                                            *(e.title for e in ranker.kb.exhibits))}
        words = ranker.words

        def terms(text: str) -> list[str]:
            # Named things only: a verb or an everyday noun (参观, 手机) that a
            # wrong entry happens to use must not push the right one down.
            return [w for w in words.whole_words(text) if w in named] + words.proper_nouns(text)

        made = cls(types, entry_text=ranker.entry_text, terms=terms, answers=answers, people=people, **kw)
        made.entry_dates = {f.id: set().union(*(dates(t) for t in (*f.questions, f.answer))) for f in ranker.kb.faqs}
        return made

    def _date_delta(self, asked: set, known: set) -> float:
        """Up for an entry that gives the year asked (more with the month),
        down for one that gives only other years."""
        if not asked or not known:
            return 0.0
        years = {y for y, _ in known}
        if not any(y in years for y, _ in asked):
            return -self.date_bonus
        months = any(m and (y, m) in known for y, m in asked)
        return self.date_bonus * (1.5 if months else 1.0)

    def lacks_answer(self, canonical_query: str, faq_id: str) -> list[str]:
        """Kinds of answer the question wants that the entry neither asks
        about in its questions nor carries in its answer."""
        answer = self.answers.get(faq_id)
        if answer is None:
            return []
        offered = self.entry_types.get(faq_id, frozenset())
        wanted = question_types(canonical_query)
        if _NOT_QUANTITY.search(canonical_query.replace(" ", "")):
            wanted = wanted - {"quantity"}
        lacking = [kind for kind, shape in ANSWER_SHAPES.items()
                   if kind in wanted and kind not in offered and not shape.search(answer)]
        # "南昌起义是哪几位领导人指挥的": an answer that names nobody does not say who.
        if "person" in wanted and "person" not in offered and not self.people.get(faq_id, False):
            lacking.append("person")
        return lacking

    def topic_terms(self, canonical_query: str) -> list[str]:
        """Query words that a few entries mention and most do not."""
        if self._terms is None or not self.entry_text:
            return []
        limit = max(1, int(self.topic_share * len(self.entry_text)))
        out = []
        for word in dict.fromkeys(self._terms(canonical_query)):
            if question_types(word) or word in QUESTION_WORDS:
                continue  # what kind of answer is wanted, not what it is about
            mentioned = sum(word in text for text in self.entry_text.values())
            if 0 < mentioned <= limit:
                out.append(word)
        return out

    def rerank(self, canonical_query: str, candidates: list[Candidate]) -> list[Candidate]:
        wanted = question_types(canonical_query)
        topics = self.topic_terms(canonical_query) if candidates else []
        asked_dates = dates(canonical_query)
        if not wanted and not topics and not asked_dates:
            return candidates
        # A term counts only where it tells the candidates apart: missing from
        # this one, mentioned by another. A term none of them mentions says
        # nothing about which one is meant.
        texts = {c.faq_id: self.entry_text.get(c.faq_id, "") for c in candidates}
        telling = [t for t in topics if any(t in text for text in texts.values())]
        out = []
        for c in candidates:
            delta = 0.0
            offered = self.entry_types.get(c.faq_id, frozenset())
            if wanted and offered:
                delta += self.bonus if wanted & offered else -self.penalty
            missing = sum(t not in texts[c.faq_id] for t in telling)
            delta -= self.topic_penalty * min(missing, 2)
            if not (wanted and offered and not wanted & offered):
                # The date names the event; the kind of answer still decides
                # between the event's entries ("1935年1月那次会议解决了什么").
                delta += self._date_delta(asked_dates, self.entry_dates.get(c.faq_id, set()))
            out.append(replace(c, score=round(min(1.0, max(0.0, c.score + delta)), 4)))
        out.sort(key=lambda c: (-c.score, c.faq_id))
        return out
