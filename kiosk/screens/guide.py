"""Service pages: the transfer guide (steps), contacts, and the FAQ."""

from __future__ import annotations

import pygame

from ..render import card
from ..widgets import Button
from .base import Screen

TITLES = {"transfer": "组织关系转接", "contacts": "联系我们", "faq": "常见问题"}


class GuideScreen(Screen):
    title = "便民服务"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.section = "transfer"
        self.open_faq: str | None = None

    def enter(self, section: str = "transfer", **params) -> None:
        self.section = section if section in TITLES else "transfer"
        self.title = TITLES[self.section]
        self.open_faq = None

    def pages(self, section: str) -> list:
        return [p for p in self.items("service") if p.section == section]

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        {"transfer": self._transfer, "contacts": self._contacts, "faq": self._faq}[self.section](surface, rect)

    def _transfer(self, surface, rect) -> None:
        theme, text = self.theme, self.text
        pages = self.pages("transfer")
        if not pages:
            self.empty(surface, rect, "暂无转接指南")
            return
        page = pages[0]
        self.heading(surface, page.title, rect.topleft, "font_title")
        y = text.draw_wrapped(surface, page.body, pygame.Rect(rect.x, rect.y + 100, rect.width, 120),
                              theme.s("font_body"), theme.c("muted"), max_lines=2) + 10
        steps = page.steps or []
        step_h = min(150, (rect.bottom - y) // max(1, len(steps)))
        for i, step in enumerate(steps, start=1):
            row = pygame.Rect(rect.x, y, rect.width, step_h - 18)
            card(surface, row, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
            pygame.draw.circle(surface, theme.c("primary"), (row.x + 70, row.centery), 40)
            text.draw(surface, str(i), (row.x + 70, row.centery), theme.s("font_h1"), theme.c("on_primary"), bold=True,
                      anchor="center")
            if i < len(steps):
                pygame.draw.line(surface, theme.c("gold"), (row.x + 70, row.centery + 40), (row.x + 70, row.bottom + 18), 6)
            text.draw_wrapped(surface, step, pygame.Rect(row.x + 140, row.y + 20, row.width - 180, row.height - 30),
                              theme.s("font_h2"), theme.c("text"), spacing=1.3)
            y += step_h

    def _contacts(self, surface, rect) -> None:
        theme, text = self.theme, self.text
        contacts = [c for p in self.pages("contacts") for c in p.contacts]
        if not contacts:
            self.empty(surface, rect, "暂无联系人")
            return
        cols = 1 if self.app.portrait else 2
        gap = theme.s("gap")
        w = (rect.width - gap * (cols - 1)) // cols
        for i, contact in enumerate(contacts[:8]):
            r, c = divmod(i, cols)
            cell = pygame.Rect(rect.x + c * (w + gap), rect.y + r * (230 + gap), w, 230)
            card(surface, cell, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
            pygame.draw.circle(surface, theme.c("primary"), (cell.x + 100, cell.centery), 60)
            text.draw(surface, contact.name[:1], (cell.x + 100, cell.centery), theme.s("font_title"),
                      theme.c("on_primary"), bold=True, anchor="center")
            text.draw(surface, contact.name, (cell.x + 200, cell.y + 34), theme.s("font_h1"), theme.c("text"), bold=True)
            text.draw(surface, contact.role, (cell.x + 200, cell.y + 100), theme.s("font_body"), theme.c("muted"))
            text.draw(surface, f"电话 {contact.phone}   {contact.place}", (cell.x + 200, cell.y + 156),
                      theme.s("font_body"), theme.c("primary_dark"), max_width=cell.width - 230)

    def _faq(self, surface, rect) -> None:
        theme, text = self.theme, self.text
        entries = self.items("faq")
        if not entries:
            self.empty(surface, rect, "暂无常见问题")
            return
        y = rect.y
        gap = theme.s("gap") // 2
        for entry in entries:
            opened = entry.id == self.open_faq
            answer_lines = text.wrap(entry.answer, theme.s("font_body"), rect.width - 100) if opened else []
            h = 110 + (len(answer_lines) * text.line_height(theme.s("font_body")) + 20 if opened else 0)
            if y + h > rect.bottom:
                break
            row = pygame.Rect(rect.x, y, rect.width, h)
            card(surface, row, theme.c("surface"), theme.s("radius"), border=theme.c("gold") if opened else theme.c("line"))
            text.draw(surface, "问", (row.x + 50, row.y + 55), theme.s("font_h2"), theme.c("primary"), bold=True,
                      anchor="center")
            text.draw(surface, entry.questions[0], (row.x + 100, row.y + 55), theme.s("font_h2"), theme.c("text"),
                      bold=True, anchor="midleft", max_width=row.width - 200)
            text.draw(surface, "−" if opened else "+", (row.right - 50, row.y + 55), theme.s("font_title"),
                      theme.c("primary"), anchor="center")
            if opened:
                text.draw_lines(surface, answer_lines, (row.x + 100, row.y + 110), theme.s("font_body"), theme.c("text"))
            self.bar.add(Button(pygame.Rect(row.x, row.y, row.width, 110), entry.questions[0],
                                lambda e=entry: self._toggle(e.id)))
            y += h + gap

    def _toggle(self, faq_id: str) -> None:
        self.open_faq = None if self.open_faq == faq_id else faq_id

    def describe(self) -> dict:
        return {"screen": self.name, "section": self.section, "open_faq": self.open_faq}
