"""A quiz, one question at a time: choose, submit, see right or wrong with the
explanation, and at the end the score (sent as learning points)."""

from __future__ import annotations

import pygame

from .. import quiz as rules
from ..render import card
from .base import Screen
from .education import award_points


class QuizScreen(Screen):
    title = "知识测验"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.quiz = None
        self.index = 0
        self.answers: list[set[int]] = []
        self.chosen: set[int] = set()
        self.revealed = False
        self.result = None
        self.error = ""
        self.message = ""

    def enter(self, quiz=None, **params) -> None:
        self.quiz = quiz
        self.index = 0
        self.answers = []
        self.chosen = set()
        self.revealed = False
        self.result = None
        self.message = ""
        self.error = ""
        if quiz is not None:
            self.title = quiz.title
            try:
                rules.check_usable(quiz)
            except rules.QuizUnusable as exc:
                self.error = str(exc)
            self.app.viewing(quiz)

    def choose(self, option: int) -> None:
        if not self.revealed:
            self.chosen = rules.toggle(self.quiz.questions[self.index], self.chosen, option)

    def submit(self) -> None:
        if not self.chosen:
            self.message = "请先选择答案"
            return
        self.message = ""
        self.revealed = True
        self.answers.append(set(self.chosen))

    def next(self) -> None:
        self.index += 1
        self.chosen = set()
        self.revealed = False
        if self.index >= len(self.quiz.questions):
            self.result = rules.score(self.quiz, self.answers)
            if self.result.points:
                self.message = award_points(self.app, self.result.points, f"测验：{self.quiz.title}", self.quiz.id)

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        if self.quiz is None:
            self.empty(surface, rect, "没有选择测验")
            return
        if self.error:
            text.draw_wrapped(surface, self.error, rect.inflate(-200, -300), theme.s("font_h1"), theme.c("wrong"))
            return
        if self.result is not None:
            self._draw_result(surface, rect)
            return
        question = self.quiz.questions[self.index]
        gap = theme.s("gap")
        head = f"第 {self.index + 1} / {len(self.quiz.questions)} 题 · {'多选题' if question.multiple else '单选题'}"
        self.heading(surface, head, rect.topleft, "font_h2")
        y = text.draw_wrapped(surface, question.text, pygame.Rect(rect.x, rect.y + 80, rect.width, 160),
                              theme.s("font_title"), theme.c("text"), spacing=1.3, max_lines=2)
        y += gap
        option_h = max(theme.touch, 104)
        correct = set(question.correct)
        for i, option in enumerate(question.options):
            row = pygame.Rect(rect.x, y, rect.width if self.app.portrait else rect.width * 2 // 3, option_h)
            label = f"{'ABCDEFGH'[i % 8]}. {option}"
            self.button(surface, row, label, lambda i=i: self.choose(i), style="choice", selected=i in self.chosen,
                        size=theme.s("font_h2"), key=f"option:{i}")
            if self.revealed:
                mark = "✓ 正确答案" if i in correct else ("✗ 选择错误" if i in self.chosen else "")
                if mark:
                    text.draw(surface, mark, (row.right + 30, row.centery), theme.s("font_h2"),
                              theme.c("ok") if i in correct else theme.c("wrong"), bold=True, anchor="midleft")
            y += option_h + gap // 2
        if self.revealed:
            right = rules.is_correct(question, self.chosen)
            verdict = "回答正确！" if right else "回答错误"
            box = pygame.Rect(rect.x, y + gap // 2, rect.width, rect.bottom - y - theme.touch - gap * 2)
            card(surface, box, theme.c("gold_pale"), theme.s("radius"), shadow=False)
            text.draw(surface, verdict, (box.x + 30, box.y + 20), theme.s("font_h1"),
                      theme.c("ok") if right else theme.c("wrong"), bold=True)
            if question.explanation:
                text.draw_wrapped(surface, "解析：" + question.explanation, pygame.Rect(box.x + 30, box.y + 90,
                                  box.width - 60, box.height - 100), theme.s("font_body"), theme.c("text"))
            last = self.index == len(self.quiz.questions) - 1
            self.button(surface, (rect.right - 320, rect.bottom - theme.touch, 320, theme.touch),
                        "查看成绩" if last else "下一题", self.next)
        else:
            self.button(surface, (rect.right - 320, rect.bottom - theme.touch, 320, theme.touch), "提交答案",
                        self.submit)
            if self.message:
                text.draw(surface, self.message, (rect.right - 350, rect.bottom - theme.touch // 2),
                          theme.s("font_body"), theme.c("wrong"), anchor="midright")

    def _draw_result(self, surface, rect) -> None:
        theme, text = self.theme, self.text
        result = self.result
        box = pygame.Rect(0, 0, min(rect.width, 1100), 620)
        box.center = rect.center
        card(surface, box, theme.c("surface"), theme.s("radius"), border=theme.c("gold"))
        text.draw(surface, "答题完成", (box.centerx, box.y + 70), theme.s("font_title"), theme.c("primary_dark"),
                  bold=True, anchor="center")
        text.draw(surface, f"{result.correct} / {result.total}", (box.centerx, box.y + 200), 120, theme.c("primary"),
                  bold=True, anchor="center")
        text.draw(surface, f"正确率 {result.percent}% · 获得 {result.points} 积分", (box.centerx, box.y + 320),
                  theme.s("font_h2"), theme.c("text"), anchor="center")
        if self.message:
            text.draw(surface, self.message, (box.centerx, box.y + 390), theme.s("font_body"), theme.c("muted"),
                      anchor="center")
        self.button(surface, (box.centerx - 420, box.bottom - 140, 380, theme.touch), "再做一次",
                    lambda: self.enter(quiz=self.quiz), style="ghost")
        self.button(surface, (box.centerx + 40, box.bottom - 140, 380, theme.touch), "返回学习教育", self.app.back)

    def describe(self) -> dict:
        return {"screen": self.name, "index": self.index, "chosen": sorted(self.chosen), "revealed": self.revealed,
                "result": None if self.result is None else (self.result.correct, self.result.points),
                "error": self.error, "message": self.message}
