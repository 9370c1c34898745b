"""首页: a tile for every section, with a live count on each."""

from __future__ import annotations

import pygame

from ..render import card, star
from .base import Screen, grid

SECTIONS = (
    # screen, title, subtitle, what to count
    ("news", "党情速递", "要闻动态 实时送达", "news"),
    ("notices", "通知公告", "紧急通知 置顶显示", "notice"),
    ("education", "学习教育", "课程 测验 积分", "lesson"),
    ("meetings", "三会一课", "会议安排 签到看板", "meeting"),
    ("services", "便民服务", "党费计算 组织关系", None),
    ("map", "组织地图", "一点到支部", "organisation"),
    ("honours", "荣誉库", "先进集体 优秀党员", "honour"),
    ("archive", "史料库", "红色记忆 历史文献", "archive"),
    ("stats", "数据统计", "党建数据 一目了然", None),
)


class HomeScreen(Screen):
    title = "首页"

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme = self.theme
        gap = theme.s("gap")
        cols = 2 if self.app.portrait else 3
        banner_h = 0
        if self.app.portrait:
            banner_h = 260
            self._banner(surface, pygame.Rect(rect.x, rect.y, rect.width, banner_h))
            banner_h += gap
        cells = grid(pygame.Rect(rect.x, rect.y + banner_h, rect.width, rect.height - banner_h), len(SECTIONS),
                     cols, gap)
        if len(SECTIONS) % cols:
            # The last tile of an incomplete row spans it.
            cells[-1].width = rect.right - cells[-1].x
        for index, (cell, (screen, title, subtitle, kind)) in enumerate(zip(cells, SECTIONS)):
            self._tile(surface, cell, index, screen, title, subtitle, kind)

    def _banner(self, surface, rect) -> None:
        theme, text = self.theme, self.text
        card(surface, rect, theme.c("primary"), theme.s("radius"))
        star(surface, (rect.x + 110, rect.centery), 70, theme.c("gold"))
        text.draw(surface, "不忘初心 牢记使命", (rect.x + 220, rect.centery - 40), theme.s("font_display"),
                  theme.c("gold_light"), bold=True, anchor="midleft")
        text.draw(surface, "欢迎使用智慧党建触屏终端", (rect.x + 224, rect.centery + 50), theme.s("font_h2"),
                  theme.c("on_primary"), anchor="midleft")

    def _tile(self, surface, cell, index, screen, title, subtitle, kind) -> None:
        theme, text = self.theme, self.text
        # Tiles alternate red and white so the grid reads at a distance.
        red = index % 2 == 0
        fill = theme.c("primary") if red else theme.c("surface")
        card(surface, cell, fill, theme.s("radius"), border=None if red else theme.c("line"))
        pygame.draw.rect(surface, theme.c("gold"), (cell.x + 36, cell.y + 40, 64, 8), border_radius=4)
        title_color = theme.c("on_primary") if red else theme.c("primary")
        sub_color = theme.c("gold_light") if red else theme.c("muted")
        text.draw(surface, title, (cell.x + 36, cell.y + 66), theme.s("font_display"), title_color, bold=True)
        text.draw(surface, subtitle, (cell.x + 40, cell.y + 66 + theme.s("font_display") + 24), theme.s("font_body"),
                  sub_color)
        if kind is not None and self.manifest is not None:
            count = len(self.items(kind))
            if count:
                badge = text.render(f"{count}", theme.s("font_h2"), theme.c("primary_deep"), bold=True)
                r = pygame.Rect(0, 0, max(72, badge.get_width() + 36), 64)
                r.topright = (cell.right - 32, cell.y + 36)
                pygame.draw.rect(surface, theme.c("gold"), r, border_radius=32)
                surface.blit(badge, badge.get_rect(center=r.center))
        star(surface, (cell.right - 70, cell.bottom - 64), 34,
             theme.c("gold") if red else theme.c("gold_light"))
        from ..widgets import Button

        self.bar.add(Button(cell, title, lambda s=screen: self.app.navigate(s), key=screen))
