"""通知公告: urgent notices first, each with its validity dates; expired ones hidden."""

from __future__ import annotations

import pygame

from ..render import card
from ..widgets import Button
from .base import Screen
from .detail import validity_text


def current_notices(notices, today) -> list:
    """Notices valid today, urgent first, then newest first."""
    live = [n for n in notices if (n.valid_from is None or n.valid_from <= today)
            and (n.valid_to is None or today <= n.valid_to)]
    return sorted(live, key=lambda n: (not n.urgent, -(n.valid_from.toordinal() if n.valid_from else 0), n.title))


class NoticesScreen(Screen):
    title = "通知公告"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.page = 0

    def enter(self, **params) -> None:
        self.page = 0

    def notices(self) -> list:
        return current_notices(self.items("notice"), self.state.now().date())

    def on_swipe(self, direction: str) -> bool:
        if direction in ("up", "down"):
            self.page = max(0, self.page + (1 if direction == "up" else -1))
            return True
        return False

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        notices = self.notices()
        if not notices:
            self.empty(surface, rect, "暂无有效通知")
            return
        gap = theme.s("gap")
        row_h = 190
        per_page = max(1, (rect.height - theme.touch - gap) // (row_h + gap))
        pages = -(-len(notices) // per_page)
        self.page = min(self.page, pages - 1)
        y = rect.y
        for notice in notices[self.page * per_page:(self.page + 1) * per_page]:
            row = pygame.Rect(rect.x, y, rect.width, row_h)
            card(surface, row, theme.c("surface"), theme.s("radius"),
                 border=theme.c("urgent") if notice.urgent else theme.c("line"))
            x = row.x + 36
            if notice.urgent:
                tag = pygame.Rect(x, row.y + 30, 130, 56)
                pygame.draw.rect(surface, theme.c("urgent"), tag, border_radius=10)
                text.draw(surface, "紧急", tag.center, theme.s("font_body"), theme.c("on_primary"), bold=True,
                          anchor="center")
                x = tag.right + 24
            text.draw(surface, notice.title, (x, row.y + 30), theme.s("font_h1"), theme.c("text"), bold=notice.urgent,
                      max_width=row.right - x - 40)
            text.draw(surface, validity_text(notice), (row.x + 36, row.y + 104), theme.s("font_body"),
                      theme.c("primary") if notice.urgent else theme.c("muted"))
            text.draw(surface, "查看全文 ›", (row.right - 36, row.y + 124), theme.s("font_body"), theme.c("primary"),
                      anchor="midright")
            self.bar.add(Button(row, notice.title, lambda n=notice: self.app.navigate("detail", item=n,
                                                                                     siblings=notices)))
            y += row_h + gap
        self.pager(surface, rect, self.page, pages, lambda: self._turn(-1), lambda: self._turn(1))

    def _turn(self, delta: int) -> None:
        self.page = max(0, self.page + delta)

    def describe(self) -> dict:
        return {"screen": self.name, "order": [n.id for n in self.notices()], "page": self.page}
