"""Quiz checking and scoring (single and multiple choice, no partial credit).

A multiple-choice question counts only when the chosen set equals the correct
set: partial answers are wrong, as in the party's own knowledge tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class QuizUnusable(ValueError):
    """The quiz cannot be taken; ``str(exc)`` is shown to the member."""


def problems(quiz) -> list[str]:
    """Reasons, in Chinese, why a quiz cannot be taken (empty when fine)."""
    found = []
    if not quiz.questions:
        found.append("测验没有题目")
    for number, question in enumerate(quiz.questions, start=1):
        correct = set(question.correct)
        if not correct:
            found.append(f"第{number}题没有正确答案")
        elif any(not 0 <= i < len(question.options) for i in correct):
            found.append(f"第{number}题的正确答案超出选项范围")
        elif not question.multiple and len(correct) != 1:
            found.append(f"第{number}题为单选题，却有{len(correct)}个正确答案")
    return found


def check_usable(quiz) -> None:
    found = problems(quiz)
    if found:
        raise QuizUnusable("本测验暂不可用：" + "；".join(found))


def is_correct(question, chosen: set[int] | list[int]) -> bool:
    return set(chosen) == set(question.correct)


@dataclass
class QuizResult:
    total: int
    correct: int
    points: int
    per_question: list[bool] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.total) if self.total else 0


def score(quiz, answers: list[set[int]]) -> QuizResult:
    """Score answers (one set of chosen option indexes per question; missing
    answers count as wrong)."""
    check_usable(quiz)
    marks = []
    for index, question in enumerate(quiz.questions):
        chosen = answers[index] if index < len(answers) else set()
        marks.append(is_correct(question, chosen))
    right = sum(marks)
    return QuizResult(total=len(marks), correct=right, points=right * quiz.points_per_question, per_question=marks)


def toggle(question, chosen: set[int], option: int) -> set[int]:
    """What a tap on ``option`` does to the current selection."""
    if not 0 <= option < len(question.options):
        return set(chosen)
    if not question.multiple:
        return {option}
    return set(chosen) ^ {option}
