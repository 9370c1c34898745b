"""荣誉库 and 史料库: browse by category and by year."""

from __future__ import annotations

import pygame

from ..render import card
from ..widgets import Button
from .base import Screen, grid


class CollectionScreen(Screen):
    kind = "honour"
    title = ""

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.category: str | None = None
        self.year: int | None = None
        self.page = 0

    def enter(self, category: str | None = None, year: int | None = None, **params) -> None:
        self.category, self.year, self.page = category, year, 0

    def all(self) -> list:
        return self.items(self.kind)

    def shown(self) -> list:
        items = [i for i in self.all() if (self.category is None or i.category == self.category)
                 and (self.year is None or i.year == self.year)]
        return sorted(items, key=lambda i: (-i.year, i.title))

    def _filter(self, category=..., year=...) -> None:
        if category is not ...:
            self.category = category
        if year is not ...:
            self.year = year
        self.page = 0

    def on_swipe(self, direction: str) -> bool:
        if direction in ("left", "up"):
            self.page += 1
            return True
        if direction in ("right", "down"):
            self.page = max(0, self.page - 1)
            return True
        return False

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        gap = theme.s("gap")
        items = self.all()
        categories = sorted({i.category for i in items})
        years = sorted({i.year for i in items}, reverse=True)
        x = rect.x
        for value, label in [(None, "全部类别")] + [(c, c) for c in categories][:5]:
            w = max(200, text.width(label, theme.s("font_body")) + 60)
            self.button(surface, (x, rect.y, w, theme.touch), label, lambda v=value: self._filter(category=v),
                        style="tab", selected=self.category == value, size=theme.s("font_body"), key=f"cat:{label}")
            x += w + gap // 2
        x = rect.x
        y = rect.y + theme.touch + gap // 2
        for value, label in [(None, "全部年份")] + [(yv, f"{yv}年") for yv in years][:7]:
            w = max(160, text.width(label, theme.s("font_body")) + 50)
            if x + w > rect.right:
                break
            self.button(surface, (x, y, w, theme.touch), label, lambda v=value: self._filter(year=v), style="tab",
                        selected=self.year == value, size=theme.s("font_body"), key=f"year:{label}")
            x += w + gap // 2
        body = pygame.Rect(rect.x, y + theme.touch + gap, rect.width, rect.bottom - y - theme.touch - gap)
        shown = self.shown()
        if not shown:
            self.empty(surface, body, "没有符合条件的内容")
            return
        cols = 2 if self.app.portrait else 4
        rows = 3 if self.app.portrait else 2
        per_page = cols * rows
        pages = -(-len(shown) // per_page)
        self.page = min(self.page, pages - 1)
        area = pygame.Rect(body.x, body.y, body.width, body.height - (theme.touch + gap if pages > 1 else 0))
        cells = grid(area, per_page, cols, gap, row_h=(area.height - gap * (rows - 1)) // rows)
        for cell, item in zip(cells, shown[self.page * per_page:(self.page + 1) * per_page]):
            card(surface, cell, theme.c("surface"), theme.s("radius"), border=theme.c("gold_light"))
            img_rect = pygame.Rect(cell.x + 14, cell.y + 14, cell.width - 28, int(cell.height * 0.58))
            ref = getattr(item, "image", None) or (item.images[0] if getattr(item, "images", None) else None)
            image = self.app.images.get(ref.sha256 if ref else None, img_rect.size, cover=True)
            if image is not None:
                surface.blit(image, img_rect.topleft)
            else:
                pygame.draw.rect(surface, theme.c("primary"), img_rect, border_radius=12)
            year_tag = pygame.Rect(img_rect.x + 14, img_rect.y + 14, 120, 48)
            pygame.draw.rect(surface, theme.c("gold"), year_tag, border_radius=10)
            text.draw(surface, str(item.year), year_tag.center, theme.s("font_small"), theme.c("primary_deep"), bold=True,
                      anchor="center")
            text.draw(surface, item.title, (cell.x + 24, img_rect.bottom + 20), theme.s("font_h2"), theme.c("text"),
                      bold=True, max_width=cell.width - 48)
            text.draw(surface, item.category, (cell.x + 24, img_rect.bottom + 80), theme.s("font_small"), theme.c("muted"))
            self.bar.add(Button(cell, item.title, lambda it=item: self.app.navigate("detail", item=it, siblings=shown)))
        self.pager(surface, body, self.page, pages, lambda: self.on_swipe("right"), lambda: self.on_swipe("left"))

    def describe(self) -> dict:
        return {"screen": self.name, "category": self.category, "year": self.year,
                "shown": [i.id for i in self.shown()]}


class HonoursScreen(CollectionScreen):
    kind = "honour"
    title = "荣誉库"


class ArchiveScreen(CollectionScreen):
    kind = "archive"
    title = "史料库"
