"""学习积分排名: the top members overall and per branch."""

from __future__ import annotations

import pygame

from .. import ranking
from ..render import card, star
from .base import Screen


class RankingScreen(Screen):
    title = "学习积分排名"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.branch_id: str | None = None

    def enter(self, branch_id: str | None = None, **params) -> None:
        self.branch_id = branch_id

    def rows(self) -> list:
        stats = self.manifest.stats if self.manifest else {}
        data = stats.get("points") if isinstance(stats.get("points"), list) else []
        return ranking.rank(data, branch_id=self.branch_id, limit=10)

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        gap = theme.s("gap")
        branches = self.items("organisation")
        names = {b.id: b.title for b in branches}
        side_w = rect.width if self.app.portrait else 440
        tabs = [(None, "全部党员")] + [(b.id, b.title) for b in branches]
        if self.app.portrait:
            x = rect.x
            for bid, label in tabs[:4]:
                self.button(surface, (x, rect.y, (rect.width - 3 * gap // 2) // 4, theme.touch), label,
                            lambda b=bid: setattr(self, "branch_id", b), style="tab", selected=self.branch_id == bid,
                            size=theme.s("font_small"))
                x += (rect.width - 3 * gap // 2) // 4 + gap // 2
            table = pygame.Rect(rect.x, rect.y + theme.touch + gap, rect.width, rect.height - theme.touch - gap)
        else:
            y = rect.y
            for bid, label in tabs[:8]:
                self.button(surface, (rect.x, y, side_w, theme.touch), label,
                            lambda b=bid: setattr(self, "branch_id", b), style="tab", selected=self.branch_id == bid,
                            size=theme.s("font_body"))
                y += theme.touch + gap // 2
            table = pygame.Rect(rect.x + side_w + gap, rect.y, rect.width - side_w - gap, rect.height)
        card(surface, table, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
        rows = self.rows()
        if not rows:
            self.empty(surface, table, "暂无积分记录")
            return
        row_h = min(96, (table.height - 40) // max(1, len(rows)))
        y = table.y + 20
        for entry in rows:
            row = pygame.Rect(table.x + 30, y, table.width - 60, row_h - 8)
            if entry.rank <= 3:
                pygame.draw.rect(surface, theme.c("gold_pale"), row, border_radius=14)
                star(surface, (row.x + 44, row.centery), 30, theme.c("gold") if entry.rank == 1 else theme.c("gold_light"))
            text.draw(surface, str(entry.rank), (row.x + 44, row.centery), theme.s("font_h2"),
                      theme.c("primary_deep"), bold=True, anchor="center")
            text.draw(surface, entry.name, (row.x + 110, row.centery), theme.s("font_h2"), theme.c("text"), bold=True,
                      anchor="midleft")
            text.draw(surface, names.get(entry.branch_id, entry.branch_id), (row.x + 360, row.centery),
                      theme.s("font_body"), theme.c("muted"), anchor="midleft", max_width=row.width - 600)
            text.draw(surface, f"{entry.points} 分", (row.right - 20, row.centery), theme.s("font_h2"),
                      theme.c("primary"), bold=True, anchor="midright")
            y += row_h

    def describe(self) -> dict:
        return {"screen": self.name, "branch": self.branch_id, "top": [(e.rank, e.name, e.points) for e in self.rows()]}
