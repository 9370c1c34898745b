"""党费计算器: choose the member category, type the monthly after-tax salary
on the keypad, read the monthly dues with the rate applied."""

from __future__ import annotations

import pygame

from ..dues import CATEGORY_LABELS, DuesInputError, MemberCategory, monthly_dues
from ..render import card
from ..widgets import Keypad
from .base import Screen

NEEDS_INCOME = (MemberCategory.EMPLOYED, MemberCategory.RETIRED)


class DuesScreen(Screen):
    title = "党费计算"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.category = MemberCategory.EMPLOYED
        self.pad = Keypad(max_len=10)
        self.result = None
        self.error = ""

    def enter(self, **params) -> None:
        self.category = MemberCategory.EMPLOYED
        self.pad.value = ""
        self.result = None
        self.error = ""

    def choose(self, category: MemberCategory) -> None:
        self.category = category
        self.result = None
        self.error = ""
        if category not in NEEDS_INCOME:
            self.calculate()

    def calculate(self) -> None:
        try:
            income = self.pad.value if self.category in NEEDS_INCOME else None
            if self.category in NEEDS_INCOME and not income:
                raise DuesInputError("请输入每月税后工资收入")
            self.result = monthly_dues(self.category, income)
            self.error = ""
        except DuesInputError as exc:
            self.result = None
            self.error = str(exc)

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        gap = theme.s("gap")
        portrait = self.app.portrait
        left_w = rect.width if portrait else int(rect.width * 0.56)
        left = pygame.Rect(rect.x, rect.y, left_w, rect.height if not portrait else 900)
        self.heading(surface, "党员类别", left.topleft, "font_h2")
        cats = list(MemberCategory)
        cw = (left.width - gap) // 2 if not portrait else (left.width - 2 * gap) // 3
        cols = 2 if not portrait else 3
        y0 = left.y + 70
        for i, cat in enumerate(cats):
            r, c = divmod(i, cols)
            self.button(surface, (left.x + c * (cw + gap), y0 + r * (theme.touch + gap // 2), cw, theme.touch),
                        CATEGORY_LABELS[cat], lambda k=cat: self.choose(k), style="choice", selected=self.category == cat,
                        key=f"cat:{cat.value}")
        y = y0 + -(-len(cats) // cols) * (theme.touch + gap // 2) + gap
        if self.category in NEEDS_INCOME:
            self.heading(surface, "每月税后工资收入（元）", (left.x, y), "font_h2")
            box = pygame.Rect(left.x, y + 70, left.width, 120)
            card(surface, box, theme.c("surface"), theme.s("radius"), border=theme.c("gold"))
            text.draw(surface, self.pad.value or "0", (box.right - 40, box.centery), theme.s("font_display"),
                      theme.c("text") if self.pad.value else theme.c("muted"), bold=True, anchor="midright")
            y = box.bottom + gap
        result_box = pygame.Rect(left.x, y, left.width, max(200, left.bottom - y))
        self._draw_result(surface, result_box)
        if self.category in NEEDS_INCOME:
            if portrait:
                pad_rect = pygame.Rect(rect.x + 100, left.bottom + gap, rect.width - 200, rect.bottom - left.bottom - 2 * gap - theme.touch)
            else:
                pad_rect = pygame.Rect(left.right + gap * 2, rect.y, rect.right - left.right - gap * 2,
                                       rect.height - theme.touch - gap)
            self.pad.draw(surface, self.app, self.bar, pad_rect)
            self.button(surface, (pad_rect.x, pad_rect.bottom + gap, pad_rect.width, theme.touch), "计 算",
                        self.calculate, key="calculate")

    def _draw_result(self, surface, box) -> None:
        theme, text = self.theme, self.text
        card(surface, box, theme.c("gold_pale"), theme.s("radius"), shadow=False)
        if self.error:
            text.draw(surface, self.error, (box.x + 40, box.y + 40), theme.s("font_h2"), theme.c("wrong"), bold=True)
            return
        if self.result is None:
            text.draw_wrapped(surface, "按《关于中国共产党党费收缴、使用和管理的规定》计算。在职党员：3000元及以下0.5%，"
                              "3000至5000元（含）1%，5000至10000元（含）1.5%，10000元以上2%。",
                              box.inflate(-80, -60), theme.s("font_body"), theme.c("muted"))
            return
        result = self.result
        text.draw(surface, "每月应交党费", (box.x + 40, box.y + 36), theme.s("font_h2"), theme.c("primary_dark"))
        amount = f"{result.monthly} 元" if result.maximum is None else f"{result.monthly}–{result.maximum} 元"
        text.draw(surface, amount, (box.x + 40, box.y + 100), 96, theme.c("primary"), bold=True)
        text.draw_wrapped(surface, result.explain(), pygame.Rect(box.x + 40, box.y + 230, box.width - 80,
                                                                 box.height - 240), theme.s("font_body"), theme.c("text"))

    def describe(self) -> dict:
        return {"screen": self.name, "category": self.category.value, "input": self.pad.value,
                "monthly": str(self.result.monthly) if self.result else None, "error": self.error}
