"""The attract loop: after N idle seconds, play the group's scheduled playlist
full screen (image and text cards); a touch goes back home (handled by the app).

Video entries are shown as title cards: decoding video needs libraries this
kiosk does not ship.
"""

from __future__ import annotations

import datetime as dt
import logging

import pygame

from ..render import bottom_shade, star, vertical_gradient
from .base import Screen
from .detail import body_of, images_of, meta_of

log = logging.getLogger(__name__)


def resolve_entries(manifest, at: dt.datetime) -> list:
    """(item, seconds) pairs to play now: the scheduled playlist, else the news."""
    if manifest is None:
        return []
    entries = []
    try:
        from content.schedule import playing_at

        for entry in playing_at(manifest, at):
            item = manifest.item(entry.item_id)
            if item is None:
                log.warning("attract: playlist item %s not in manifest; skipped", entry.item_id)
                continue
            entries.append((item, entry.duration_s))
    except Exception:  # a broken schedule still leaves something on screen
        log.exception("attract: schedule could not be resolved; showing news")
    if not entries:
        entries = [(item, 10.0) for item in manifest.of_kind("news")[:8]]
    return entries


class AttractScreen(Screen):
    fullscreen = True
    title = "轮播"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.entries: list = []
        self.index = 0
        self.elapsed = 0.0
        self.fade = 1.0
        self._cards: dict[tuple, pygame.Surface] = {}
        self._previous: pygame.Surface | None = None

    def enter(self, **params) -> None:
        self.entries = resolve_entries(self.manifest, self.state.now())
        self.index = 0
        self.elapsed = 0.0
        self.fade = 1.0
        self._previous = None
        self._show()

    def content_changed(self) -> None:
        self._cards.clear()
        if self.app.current_name == self.name:
            self.enter()

    def _show(self) -> None:
        if self.entries:
            self.app.viewing(self.entries[self.index % len(self.entries)][0])

    def update(self, dt: float) -> bool:
        if not self.entries:
            return False
        self.elapsed += dt
        changed = False
        if self.fade < 1.0:
            self.fade = min(1.0, self.fade + dt / max(0.05, self.theme.t("transition_s", 0.6)))
            changed = True
        if self.elapsed >= self.entries[self.index % len(self.entries)][1]:
            self._previous = self.card(self.entries[self.index % len(self.entries)][0])
            self.index = (self.index + 1) % len(self.entries)
            if self.index == 0:
                # Each pass re-resolves, so dayparting changes take effect.
                self.entries = resolve_entries(self.manifest, self.state.now()) or self.entries
            self.elapsed = 0.0
            self.fade = 0.0
            self._show()
            changed = True
        return changed

    def update_soon(self) -> bool:
        return True

    def animating(self) -> bool:
        return self.fade < 1.0

    def card(self, item) -> pygame.Surface:
        size = self.app.size
        key = (item.id, size)
        surf = self._cards.get(key)
        if surf is not None:
            return surf
        theme, text = self.theme, self.text
        w, h = size
        surf = pygame.Surface(size)
        surf.blit(vertical_gradient(size, theme.c("primary"), theme.c("primary_deep")), (0, 0))
        refs = [r for r in images_of(item) if r.mime.startswith("image/")]
        image = self.app.images.get(refs[0].sha256, size, cover=True) if refs else None
        m = theme.s("margin") * 2
        if image is not None:
            surf.blit(image, image.get_rect(center=(w // 2, h // 2)))
            surf.blit(bottom_shade((w, h * 6 // 10)), (0, h - h * 6 // 10))
            text.draw(surf, item.title, (m, h - 230), theme.s("font_display"), theme.c("on_primary"), bold=True,
                      max_width=w - 2 * m)
            text.draw(surf, meta_of(item), (m, h - 130), theme.s("font_h2"), theme.c("gold_light"), max_width=w - 2 * m)
        else:
            star(surf, (w - 260, 260), 160, theme.c("gold"))
            pygame.draw.rect(surf, theme.c("gold"), (m, 200, 160, 12), border_radius=6)
            lines = text.wrap(item.title, theme.s("font_display") + 16, w - 2 * m - 300)[:3]
            y = text.draw_lines(surf, lines, (m, 250), theme.s("font_display") + 16, theme.c("on_primary"), 1.3)
            body = body_of(item)
            if body:
                text.draw_wrapped(surf, body, pygame.Rect(m, y + 40, w - 2 * m, h - y - 260), theme.s("font_h1"),
                                  theme.c("gold_pale"), max_lines=6)
        hint = "触摸屏幕 开始使用"
        r = text.render(hint, theme.s("font_h2"), theme.c("primary_deep"), bold=True)
        pill = r.get_rect(bottomright=(w - m, h - 60)).inflate(56, 26)
        pygame.draw.rect(surf, theme.c("gold"), pill, border_radius=pill.height // 2)
        surf.blit(r, r.get_rect(center=pill.center))
        if len(self._cards) > 16:
            self._cards.clear()
        self._cards[key] = surf
        return surf

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        if not self.entries:
            surface.blit(vertical_gradient(self.app.size, self.theme.c("primary"), self.theme.c("primary_deep")), (0, 0))
            star(surface, rect.center, 140, self.theme.c("gold"))
            self.text.draw(surface, "智慧党建展厅", (rect.centerx, rect.centery + 230), self.theme.s("font_display"),
                           self.theme.c("on_primary"), bold=True, anchor="center")
            return
        current = self.card(self.entries[self.index % len(self.entries)][0])
        if self.fade < 1.0 and self._previous is not None:
            surface.blit(self._previous, (0, 0))
            current.set_alpha(int(255 * self.fade))
            surface.blit(current, (0, 0))
            current.set_alpha(None)
        else:
            surface.blit(current, (0, 0))

    def describe(self) -> dict:
        item = self.entries[self.index % len(self.entries)][0] if self.entries else None
        return {"screen": self.name, "item": item.id if item else None, "count": len(self.entries)}
