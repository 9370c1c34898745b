"""Re-ranking by question type.

Entries about the same topic ("长征是从哪一年开始的" / "长征一共走了多少里")
share most of their words, so BM25 ranks them close together; what tells them
apart is what kind of answer is wanted: a time, a place, a quantity, a reason.
The re-ranker reads that type from the visitor's question and from each
candidate entry's questions and nudges agreeing candidates up, disagreeing
ones down. It runs on the canonical text (after synonym folding).
"""

from __future__ import annotations

import re
from dataclasses import replace

from .retrieval import Candidate

QUESTION_TYPES: dict[str, re.Pattern[str]] = {
    "time": re.compile(r"何时|几点|开始|出发|结束|开门|闭馆|多少年|持续|历时"),
    "place": re.compile(r"哪里"),
    "quantity": re.compile(r"多少(?!年)|多远|多久|几个|总数|人数"),
    "reason": re.compile(r"意义|为什么|为何|精神|确立|解决"),
    "how": re.compile(r"怎么|申请|办理"),
}


def question_types(canonical_text: str) -> frozenset[str]:
    return frozenset(name for name, pattern in QUESTION_TYPES.items() if pattern.search(canonical_text))


class TypeReranker:
    def __init__(self, entry_types: dict[str, frozenset[str]], *, bonus: float = 0.08, penalty: float = 0.08) -> None:
        self.entry_types = entry_types
        self.bonus, self.penalty = bonus, penalty

    @classmethod
    def for_ranker(cls, ranker, **kw) -> "TypeReranker":
        types = {}
        for faq in ranker.kb.faqs:
            found: set[str] = set()
            for question in faq.questions:
                found |= question_types(ranker.canon(question))
            types[faq.id] = frozenset(found)
        return cls(types, **kw)

    def rerank(self, canonical_query: str, candidates: list[Candidate]) -> list[Candidate]:
        wanted = question_types(canonical_query)
        if not wanted:
            return candidates
        out = []
        for c in candidates:
            offered = self.entry_types.get(c.faq_id, frozenset())
            if not offered:
                out.append(c)
                continue
            delta = self.bonus if wanted & offered else -self.penalty
            out.append(replace(c, score=round(min(1.0, max(0.0, c.score + delta)), 4)))
        out.sort(key=lambda c: (-c.score, c.faq_id))
        return out
