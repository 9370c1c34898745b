"""数据统计: key figures and charts drawn locally with pygame."""

from __future__ import annotations

import pygame

from ..render import card
from ..stats import aggregate
from .base import Screen


class StatsScreen(Screen):
    title = "数据统计"

    def figures(self):
        if self.manifest is None:
            return None
        return aggregate(self.manifest, self.state.now(), self.state.tz)

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        stats = self.figures()
        if stats is None:
            self.empty(surface, rect, "暂无统计数据")
            return
        gap = theme.s("gap")
        rate = "—" if stats.attendance_rate is None else f"{round(stats.attendance_rate * 100)}%"
        tiles = [("党组织", f"{stats.branches}", "个"), ("党员", f"{stats.members}", "名"),
                 ("本季度会议", f"{stats.meetings_this_quarter}", "次"), ("出席率", rate, ""),
                 ("学习积分", f"{stats.learning_points}", "分")]
        cols = 3 if self.app.portrait else 5
        tw = (rect.width - gap * (cols - 1)) // cols
        th = 190
        for i, (label, value, unit) in enumerate(tiles):
            r, c = divmod(i, cols)
            cell = pygame.Rect(rect.x + c * (tw + gap), rect.y + r * (th + gap), tw, th)
            card(surface, cell, theme.c("primary") if i % 2 == 0 else theme.c("surface"), theme.s("radius"),
                 border=None if i % 2 == 0 else theme.c("line"))
            fg = theme.c("on_primary") if i % 2 == 0 else theme.c("primary")
            text.draw(surface, label, (cell.x + 32, cell.y + 26), theme.s("font_body"),
                      theme.c("gold_light") if i % 2 == 0 else theme.c("muted"))
            v = text.draw(surface, value, (cell.x + 32, cell.bottom - 24), 84, fg, bold=True, anchor="bottomleft")
            if unit:
                text.draw(surface, unit, (v.right + 10, cell.bottom - 36), theme.s("font_body"), fg, anchor="bottomleft")
        rows = -(-len(tiles) // cols)
        charts_top = rect.y + rows * (th + gap)
        charts = pygame.Rect(rect.x, charts_top, rect.width, rect.bottom - charts_top)
        if self.app.portrait:
            a = pygame.Rect(charts.x, charts.y, charts.width, (charts.height - gap) // 2)
            b = pygame.Rect(charts.x, a.bottom + gap, charts.width, a.height)
        else:
            a = pygame.Rect(charts.x, charts.y, (charts.width - gap) // 2, charts.height)
            b = pygame.Rect(a.right + gap, charts.y, a.width, charts.height)
        self.bars(surface, a, "各支部党员人数", stats.members_by_branch, "名")
        self.bars(surface, b, "各支部学习积分", stats.points_by_branch, "分")

    def bars(self, surface, rect, title: str, values: dict[str, int], unit: str) -> None:
        """Horizontal bar chart, longest bar first."""
        theme, text = self.theme, self.text
        card(surface, rect, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
        self.heading(surface, title, (rect.x + 32, rect.y + 28), "font_h2")
        items = sorted(values.items(), key=lambda kv: -kv[1])[:8]
        if not items:
            self.empty(surface, rect, "暂无数据")
            return
        top = rect.y + 110
        bar_area = rect.height - 140
        step = min(80, bar_area // len(items))
        label_w = 300
        peak = max(v for _, v in items) or 1
        max_w = rect.width - label_w - 180
        for i, (name, value) in enumerate(items):
            y = top + i * step
            text.draw(surface, name, (rect.x + 32, y + step // 2 - 4), theme.s("font_small"), theme.c("text"),
                      anchor="midleft", max_width=label_w - 20)
            w = max(6, int(max_w * value / peak))
            bar = pygame.Rect(rect.x + 32 + label_w, y + step // 2 - 4 - (step * 0.55) // 2, w, int(step * 0.55))
            pygame.draw.rect(surface, theme.c("primary") if i == 0 else theme.c("primary_dark") if i % 2 else
                             theme.c("primary"), bar, border_radius=8)
            pygame.draw.rect(surface, theme.c("gold"), (bar.x, bar.y, min(bar.width, 10), bar.height),
                             border_top_left_radius=8, border_bottom_left_radius=8)
            text.draw(surface, f"{value}{unit}", (bar.right + 16, bar.centery), theme.s("font_small"),
                      theme.c("primary_deep"), bold=True, anchor="midleft")

    def describe(self) -> dict:
        stats = self.figures()
        return {"screen": self.name, "branches": stats.branches if stats else 0, "members": stats.members if stats else 0}

