"""便民服务: dues calculator, transfer guide, contacts and FAQ."""

from __future__ import annotations

import pygame

from ..render import card, star
from ..widgets import Button
from .base import Screen, grid

ENTRIES = (
    ("dues", {}, "党费计算", "按2008年党费规定自动计算"),
    ("guide", {"section": "transfer"}, "组织关系转接", "办理流程 一步一步"),
    ("guide", {"section": "contacts"}, "联系我们", "党务工作人员联系方式"),
    ("guide", {"section": "faq"}, "常见问题", "党务办理常见问答"),
)


class ServicesScreen(Screen):
    title = "便民服务"

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        cells = grid(rect, len(ENTRIES), 1 if self.app.portrait else 2, theme.s("gap"))
        for i, (cell, (screen, params, title, subtitle)) in enumerate(zip(cells, ENTRIES)):
            card(surface, cell, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
            pygame.draw.rect(surface, theme.c("primary"), (cell.x, cell.y, 18, cell.height),
                             border_top_left_radius=theme.s("radius"), border_bottom_left_radius=theme.s("radius"))
            star(surface, (cell.x + 110, cell.centery), 46, theme.c("gold"))
            text.draw(surface, title, (cell.x + 190, cell.centery - 40), theme.s("font_display"), theme.c("primary"),
                      bold=True, anchor="midleft")
            text.draw(surface, subtitle, (cell.x + 194, cell.centery + 44), theme.s("font_body"), theme.c("muted"),
                      anchor="midleft")
            self.bar.add(Button(cell, title, lambda s=screen, p=params: self.app.navigate(s, **p)))
