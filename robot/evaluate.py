"""Scoring the understanding on a labelled paraphrase set.

A case is ``{q, intent, answer_id?, exhibit_id?}``. Figures:

- top-1: FAQ cases whose best-ranked entry is the right one (what the ranker knows);
- answered right: FAQ cases answered confidently with the right entry;
- ask-back rate: FAQ cases where the robot asked back instead of answering;
- wrong-confident rate: cases of any kind where the robot acted confidently
  and wrongly (wrong answer, answering an out-of-scope question, wrong
  exhibit or wrong command), over all cases. This is the figure that hurts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .nlu import IntentRecognizer

CONFIDENT = {"faq", "goto", "where", "tour", "stop", "repeat", "greeting", "goodbye"}


@dataclass
class EvalReport:
    cases: int = 0
    faq_cases: int = 0
    top1: float = 0.0
    answered_right: float = 0.0
    ask_back_rate: float = 0.0
    ask_back_recoverable: float = 0.0
    wrong_confident_rate: float = 0.0
    intent_accuracy: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, *, with_failures: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not with_failures:
            data.pop("failures")
        return data


def load_cases(path: str | Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [dict(case) for case in data]


def evaluate(recognizer: IntentRecognizer, cases: Iterable[dict[str, Any]]) -> EvalReport:
    report = EvalReport()
    top1 = answered = asked = recoverable = wrong = intent_ok = 0
    for case in cases:
        report.cases += 1
        want_intent = case["intent"]
        got = recognizer.understand(case["q"])
        right = False
        if want_intent == "faq":
            report.faq_cases += 1
            want = case["answer_id"]
            if got.candidates and got.candidates[0].faq_id == want:
                top1 += 1
            if got.intent == "faq":
                right = got.answer_id == want
                answered += right
            elif got.intent == "ask_back":
                asked += 1
                recoverable += any(c.faq_id == want for c in got.candidates)
        elif want_intent in ("goto", "where"):
            right = got.intent == want_intent and got.exhibit_id == case.get("exhibit_id")
        else:
            right = got.intent == want_intent
        # Asking back or admitting ignorance is never "wrong and confident".
        if got.intent in CONFIDENT and not right:
            wrong += 1
        intent_ok += got.intent == want_intent or (want_intent == "unknown" and got.intent == "ask_back")
        if not right:
            report.failures.append({"q": case["q"], "want": want_intent, "want_id": case.get("answer_id") or
                                    case.get("exhibit_id"), "got": got.intent,
                                    "got_id": got.answer_id or got.exhibit_id, "score": got.score,
                                    "top": [(c.faq_id, c.score) for c in got.candidates]})
    n, f = max(report.cases, 1), max(report.faq_cases, 1)
    report.top1 = round(top1 / f, 4)
    report.answered_right = round(answered / f, 4)
    report.ask_back_rate = round(asked / f, 4)
    # No ask-back at all: none offered the wrong candidates.
    report.ask_back_recoverable = round(recoverable / asked, 4) if asked else 1.0
    report.wrong_confident_rate = round(wrong / n, 4)
    report.intent_accuracy = round(intent_ok / n, 4)
    return report
