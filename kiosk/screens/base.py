"""The shape every screen has (after pygame_gui's UI elements): it draws into
a rect, registers its buttons while drawing, and answers
``process_event(event) -> bool`` for TAP and SWIPE gestures."""

from __future__ import annotations

import pygame

from .. import events
from ..widgets import ButtonBar, draw_button


class Screen:
    title = ""
    fullscreen = False

    def __init__(self, app, name: str) -> None:
        self.app = app
        self.name = name
        self.bar = ButtonBar()

    # shortcuts
    @property
    def theme(self):
        return self.app.theme

    @property
    def text(self):
        return self.app.text

    @property
    def state(self):
        return self.app.state

    @property
    def manifest(self):
        return self.app.state.manifest

    def items(self, kind: str) -> list:
        return self.manifest.of_kind(kind) if self.manifest else []

    # lifecycle
    def enter(self, **params) -> None:
        pass

    def resume(self) -> None:
        """Came back to this screen with the back button."""

    def content_changed(self) -> None:
        """A new manifest was applied."""

    def update(self, dt: float) -> bool:
        return False

    def animating(self) -> bool:
        return False

    def update_soon(self) -> bool:
        """True when a timer of this screen runs (carousel, playlist): the idle
        loop then wakes four times a second instead of once."""
        return False

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        raise NotImplementedError

    def process_event(self, event: pygame.event.Event) -> bool:
        if event.type == events.TAP:
            return self.bar.tap(event.pos)
        if event.type == events.SWIPE:
            return self.on_swipe(event.direction)
        return False

    def on_swipe(self, direction: str) -> bool:
        return False

    def describe(self) -> dict:
        return {"screen": self.name}

    # helpers
    def button(self, surface, rect, label, action, **kw):
        return draw_button(surface, self.app, self.bar, rect, label, action, **kw)

    def heading(self, surface, label: str, pos, size: str = "font_h1", color: str = "primary_dark") -> pygame.Rect:
        """A section heading with the gold bar in front of it."""
        x, y = pos
        height = self.theme.s(size)
        pygame.draw.rect(surface, self.theme.c("primary"), (x, y + 4, 10, height), border_radius=4)
        return self.text.draw(surface, label, (x + 26, y), height, self.theme.c(color), bold=True)

    def empty(self, surface, rect, message: str = "暂无内容") -> None:
        self.text.draw(surface, message, rect.center, self.theme.s("font_h2"), self.theme.c("muted"), anchor="center")

    def pager(self, surface, rect: pygame.Rect, page: int, pages: int, on_prev, on_next) -> None:
        """Previous / next page buttons with "2 / 5" between them, at the bottom of rect."""
        if pages <= 1:
            return
        theme = self.theme
        h = theme.touch
        y = rect.bottom - h
        self.button(surface, (rect.centerx - 330, y, 240, h), "上一页", on_prev, style="ghost", enabled=page > 0)
        self.text.draw(surface, f"{page + 1} / {pages}", (rect.centerx, y + h // 2), theme.s("font_h2"),
                       theme.c("muted"), anchor="center")
        self.button(surface, (rect.centerx + 90, y, 240, h), "下一页", on_next, style="ghost",
                    enabled=page < pages - 1)


def grid(rect: pygame.Rect, count: int, cols: int, gap: int, row_h: int | None = None) -> list[pygame.Rect]:
    rows = max(1, -(-count // cols))
    w = (rect.width - gap * (cols - 1)) // cols
    h = row_h or (rect.height - gap * (rows - 1)) // rows
    return [pygame.Rect(rect.x + (i % cols) * (w + gap), rect.y + (i // cols) * (h + gap), w, h) for i in range(count)]
