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
        portrait = self.app.portrait
        head = f"第 {self.index + 1} / {len(self.quiz.questions)} 题 · {'多选题' if question.multiple else '单选题'}"
        self.heading(surface, head, rect.topleft, "font_h2")
        options_w = rect.width if portrait else int(rect.width * 0.62)
        y = text.draw_wrapped(surface, question.text, pygame.Rect(rect.x, rect.y + 80, options_w, 160),
                              theme.s("font_title"), theme.c("text"), spacing=1.3, max_lines=2)
        y += gap // 2
        option_h = max(theme.touch, 104)
        correct = set(question.correct)
        for i, option in enumerate(question.options):
            row = pygame.Rect(rect.x, y, options_w, option_h)
            label = f"{'ABCDEFGH'[i % 8]}.  {option}"
            self.button(surface, row, label, lambda i=i: self.choose(i), style="choice", selected=i in self.chosen,
                        size=theme.s("font_h2"), key=f"option:{i}", align="left")
            if self.revealed and (i in correct or i in self.chosen):
                self._mark(surface, row, "正确答案" if i in correct else "选错了", i in correct)
            y += option_h + gap // 2
        if portrait:
            panel = pygame.Rect(rect.x, y + gap // 2, rect.width, rect.bottom - y - theme.touch - gap * 2)
        else:
            panel = pygame.Rect(rect.x + options_w + gap * 2, rect.y + 80, rect.width - options_w - gap * 2,
                                rect.height - 80 - theme.touch - gap)
        button_rect = (rect.right - 320, rect.bottom - theme.touch, 320, theme.touch)
        if self.revealed:
            right = rules.is_correct(question, self.chosen)
            card(surface, panel, theme.c("surface"), theme.s("radius"), border=theme.c("ok") if right else theme.c("wrong"))
            band = pygame.Rect(panel.x, panel.y, panel.width, 110)
            pygame.draw.rect(surface, theme.c("ok") if right else theme.c("wrong"), band,
                             border_top_left_radius=theme.s("radius"), border_top_right_radius=theme.s("radius"))
            text.draw(surface, "回答正确" if right else "回答错误", (band.x + 36, band.centery), theme.s("font_title"),
                      theme.c("on_primary"), bold=True, anchor="midleft")
            if question.explanation:
                inner = pygame.Rect(panel.x + 36, band.bottom + 30, panel.width - 72, panel.bottom - band.bottom - 50)
                text.draw(surface, "解析", inner.topleft, theme.s("font_h2"), theme.c("primary_dark"), bold=True)
                text.draw_wrapped(surface, question.explanation, pygame.Rect(inner.x, inner.y + 70, inner.width,
                                  inner.height - 70), theme.s("font_body"), theme.c("text"))
            last = self.index == len(self.quiz.questions) - 1
            self.button(surface, button_rect, "查看成绩" if last else "下一题", self.next)
        else:
            if not portrait:
                card(surface, panel, theme.c("gold_pale"), theme.s("radius"), shadow=False)
                hint = "请选择所有正确的选项，然后提交" if question.multiple else "请选择一个答案，然后提交"
                text.draw_wrapped(surface, hint, panel.inflate(-72, -72), theme.s("font_h2"), theme.c("muted"))
            self.button(surface, button_rect, "提交答案", self.submit)
            if self.message:
                text.draw(surface, self.message, (rect.right - 350, rect.bottom - theme.touch // 2),
                          theme.s("font_body"), theme.c("wrong"), anchor="midright")

    def _mark(self, surface, row, label: str, good: bool) -> None:
        theme, text = self.theme, self.text
        surf = text.render(label, theme.s("font_small"), theme.c("on_primary"), bold=True)
        pill = surf.get_rect(midright=(row.right - 28, row.centery)).inflate(32, 14)
        pygame.draw.rect(surface, theme.c("ok") if good else theme.c("primary_deep"), pill, border_radius=pill.height // 2)
        surface.blit(surf, surf.get_rect(center=pill.center))

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
