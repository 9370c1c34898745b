"""党情速递: an auto-advancing carousel of headlines and the full list."""

from __future__ import annotations

import pygame

from ..render import bottom_shade, card, vertical_gradient
from ..widgets import Button
from .base import Screen


def ease(t: float) -> float:
    return 1 - (1 - t) ** 3


class NewsScreen(Screen):
    title = "党情速递"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.index = 0
        self.timer = 0.0
        self.transition: tuple[int, int, float] | None = None  # from, direction, progress
        self.page = 0
        self._slides: dict[tuple, pygame.Surface] = {}
        self.carousel_rect = pygame.Rect(0, 0, 0, 0)

    def news(self) -> list:
        items = self.items("news")
        return sorted(items, key=lambda n: (n.published_on is None, -(n.published_on.toordinal()
                                                                         if n.published_on else 0)))

    def enter(self, **params) -> None:
        self.timer = 0.0
        self.transition = None
        self.page = 0

    def content_changed(self) -> None:
        self._slides.clear()
        self.index = 0

    # -- carousel ---------------------------------------------------------------
    def advance(self, direction: int = 1) -> None:
        count = len(self.news())
        if count < 2:
            return
        self.transition = (self.index, direction, 0.0)
        self.index = (self.index + direction) % count
        self.timer = 0.0

    def update(self, dt: float) -> bool:
        if self.transition is not None:
            start, direction, progress = self.transition
            progress += dt / max(0.05, self.theme.t("transition_s", 0.6))
            self.transition = None if progress >= 1 else (start, direction, progress)
            # Mid-slide frames only need the carousel (draw_animation), not the page.
            return self.transition is None
        self.timer += dt
        self._prepare_next()
        if self.timer >= self.theme.t("carousel_s", 6):
            self.advance(1)
            return True
        return False

    def update_soon(self) -> bool:
        return True

    def animating(self) -> bool:
        return self.transition is not None

    def _prepare_next(self) -> None:
        """Render the next slide while nothing moves, so the slide-in frame only blits."""
        news = self.news()
        if len(news) > 1 and self.carousel_rect.width > 0:
            self.slide(news[(self.index + 1) % len(news)], self.carousel_rect.size)

    def on_swipe(self, direction: str) -> bool:
        if direction in ("left", "right"):
            self.advance(1 if direction == "left" else -1)
            return True
        if direction in ("up", "down"):
            self.page = max(0, self.page + (1 if direction == "up" else -1))
            return True
        return False

    def slide(self, item, size: tuple[int, int]) -> pygame.Surface:
        key = (item.id, size)
        surf = self._slides.get(key)
        if surf is not None:
            return surf
        theme, text = self.theme, self.text
        surf = pygame.Surface(size).convert() if pygame.display.get_surface() else pygame.Surface(size)
        surf.blit(vertical_gradient(size, theme.c("primary"), theme.c("primary_deep")), (0, 0))
        image = self.app.images.get(item.images[0].sha256 if item.images else None, size, cover=True)
        if image is not None:
            surf.blit(image, image.get_rect(center=(size[0] // 2, size[1] // 2)))
        surf.blit(bottom_shade((size[0], size[1] * 6 // 10)), (0, size[1] - size[1] * 6 // 10))
        pad = 48
        tag = pygame.Rect(pad, size[1] - 250, 170, 56)
        pygame.draw.rect(surf, theme.c("gold"), tag, border_radius=10)
        text.draw(surf, "党情速递", tag.center, theme.s("font_small"), theme.c("primary_deep"), bold=True,
                  anchor="center")
        text.draw(surf, item.title, (pad, size[1] - 170), theme.s("font_title"), theme.c("on_primary"), bold=True,
                  max_width=size[0] - 2 * pad)
        meta = " · ".join(x for x in (str(item.published_on or ""), item.source or "") if x)
        text.draw(surf, meta, (pad, size[1] - 88), theme.s("font_small"), theme.c("gold_light"))
        if len(self._slides) > 24:
            self._slides.clear()
        self._slides[key] = surf
        return surf

    # -- drawing ------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme = self.theme
        news = self.news()
        if not news:
            self.empty(surface, rect, "暂无新闻")
            return
        gap = theme.s("gap")
        if self.app.portrait:
            carousel = pygame.Rect(rect.x, rect.y, rect.width, int(rect.width * 0.62))
            listing = pygame.Rect(rect.x, carousel.bottom + gap, rect.width, rect.bottom - carousel.bottom - gap)
        else:
            carousel = pygame.Rect(rect.x, rect.y, int(rect.width * 0.62), rect.height)
            listing = pygame.Rect(carousel.right + gap, rect.y, rect.right - carousel.right - gap, rect.height)
        self.carousel_rect = carousel
        self._draw_carousel(surface, carousel, news)
        self._draw_list(surface, listing, news)

    def _draw_carousel(self, surface, rect, news, register: bool = True) -> None:
        theme = self.theme
        index = self.index % len(news)
        size = rect.size
        clip = surface.get_clip()
        surface.set_clip(rect)
        if self.transition is not None:
            start, direction, progress = self.transition
            offset = int(ease(progress) * rect.width) * direction
            surface.blit(self.slide(news[start % len(news)], size), (rect.x - offset, rect.y))
            surface.blit(self.slide(news[index], size), (rect.x - offset + direction * rect.width, rect.y))
        else:
            surface.blit(self.slide(news[index], size), rect.topleft)
        surface.set_clip(clip)
        # page dots
        n = len(news)
        x0 = rect.right - 48 - n * 36
        for i in range(n):
            color = theme.c("gold") if i == index else theme.c("gold_pale")
            pygame.draw.circle(surface, color, (x0 + i * 36, rect.y + 48), 10 if i == index else 7)
        if register:
            self.bar.add(Button(rect, news[index].title, self.open_current, key="carousel"))

    def open_current(self) -> None:
        news = self.news()
        if news:
            self.open(news[self.index % len(news)], news)

    def draw_animation(self, surface: pygame.Surface) -> pygame.Rect | None:
        """Redraw only the sliding carousel; the rest of the page is unchanged."""
        news = self.news()
        if not news or self.carousel_rect.width == 0:
            return None
        self._draw_carousel(surface, self.carousel_rect, news, register=False)
        return self.carousel_rect

    def _draw_list(self, surface, rect, news) -> None:
        theme, text = self.theme, self.text
        row_h = max(theme.touch, 132)
        gap = theme.s("gap") // 2
        pager_h = theme.touch + gap
        per_page = max(1, (rect.height - pager_h + gap) // (row_h + gap))
        pages = max(1, -(-len(news) // per_page))
        self.page = min(self.page, pages - 1)
        shown = news[self.page * per_page:(self.page + 1) * per_page]
        y = rect.y
        for item in shown:
            row = pygame.Rect(rect.x, y, rect.width, row_h)
            current = item is news[self.index % len(news)]
            card(surface, row, theme.c("surface"), theme.s("radius"),
                 border=theme.c("gold") if current else theme.c("line"))
            pygame.draw.rect(surface, theme.c("primary") if current else theme.c("gold_light"),
                             (row.x, row.y + 20, 8, row_h - 40), border_radius=4)
            text.draw(surface, item.title, (row.x + 32, row.y + 22), theme.s("font_body"), theme.c("text"), bold=current,
                      max_width=row.width - 56)
            meta = str(item.published_on or "") + ("  " + item.summary if item.summary else "")
            text.draw(surface, meta, (row.x + 32, row.y + 78), theme.s("font_small"), theme.c("muted"),
                      max_width=row.width - 56)
            self.bar.add(Button(row, item.title, lambda it=item: self.open(it, news)))
            y += row_h + gap
        self.pager(surface, rect, self.page, pages, lambda: self._turn(-1), lambda: self._turn(1))

    def _turn(self, delta: int) -> None:
        self.page = max(0, self.page + delta)

    def open(self, item, siblings) -> None:
        self.app.navigate("detail", item=item, siblings=siblings)

    def describe(self) -> dict:
        news = self.news()
        return {"screen": self.name, "index": self.index, "current": news[self.index % len(news)].id if news else None,
                "page": self.page}
