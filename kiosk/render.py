"""Text and shape drawing with the CJK font, cached so a frame is mostly blits.

Rendering a Chinese line costs far more than blitting it, so every rendered
string is kept (LRU) by (text, size, colour, bold).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import pygame

from content.fonts import cjk_font_path

from .paginate import paginate
from .textlayout import wrap


class TextRenderer:
    def __init__(self, cache_size: int = 2048) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self._path = str(cjk_font_path())
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._cache: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._cache_size = cache_size
        self._fitted: dict[tuple, str] = {}

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        key = (size, bold)
        font = self._fonts.get(key)
        if font is None:
            font = pygame.font.Font(self._path, size)
            font.set_bold(bold)
            self._fonts[key] = font
        return font

    def width(self, text: str, size: int, bold: bool = False) -> int:
        return self.font(size, bold).size(text)[0]

    def line_height(self, size: int, spacing: float = 1.5) -> int:
        return int(self.font(size).get_linesize() * spacing)

    def render(self, text: str, size: int, color, bold: bool = False) -> pygame.Surface:
        key = (text, size, tuple(color), bold)
        surf = self._cache.get(key)
        if surf is None:
            surf = self.font(size, bold).render(text, True, color)
            self._cache[key] = surf
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return surf

    def draw(self, target: pygame.Surface, text: str, pos, size: int, color, *, bold: bool = False,
             anchor: str = "topleft", max_width: int | None = None) -> pygame.Rect:
        if max_width is not None:
            text = self.ellipsize(text, size, max_width, bold)
        surf = self.render(text, size, color, bold)
        rect = surf.get_rect(**{anchor: pos})
        target.blit(surf, rect)
        return rect

    def ellipsize(self, text: str, size: int, max_width: int, bold: bool = False) -> str:
        key = (text, size, max_width, bold)
        fitted = self._fitted.get(key)
        if fitted is None:
            fitted = self._ellipsize(text, size, max_width, bold)
            if len(self._fitted) > 4096:
                self._fitted.clear()
            self._fitted[key] = fitted
        return fitted

    def _ellipsize(self, text: str, size: int, max_width: int, bold: bool) -> str:
        if self.width(text, size, bold) <= max_width:
            return text
        # Binary search for the longest prefix that fits with the ellipsis.
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.width(text[:mid] + "…", size, bold) <= max_width:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo] + "…"

    def wrap(self, text: str, size: int, width: int) -> list[str]:
        return _wrap_cached(self, text, size, width)

    def pages(self, text: str, size: int, width: int, height: int, spacing: float = 1.5) -> list[list[str]]:
        lines = self.wrap(text, size, width)
        return paginate(lines, max(1, height // self.line_height(size, spacing)))

    def draw_lines(self, target: pygame.Surface, lines: list[str], pos, size: int, color,
                   spacing: float = 1.5) -> int:
        x, y = pos
        step = self.line_height(size, spacing)
        for line in lines:
            if line:
                target.blit(self.render(line, size, color), (x, y))
            y += step
        return y

    def draw_wrapped(self, target: pygame.Surface, text: str, rect: pygame.Rect, size: int, color,
                     spacing: float = 1.5, max_lines: int | None = None) -> int:
        lines = self.wrap(text, size, rect.width)
        fit = max(1, rect.height // self.line_height(size, spacing))
        limit = min(fit, max_lines or fit)
        if len(lines) > limit:
            lines = lines[:limit]
            lines[-1] = self.ellipsize(lines[-1] + "……", size, rect.width)
        return self.draw_lines(target, lines, rect.topleft, size, color, spacing)


@lru_cache(maxsize=512)
def _wrap_cached(renderer: TextRenderer, text: str, size: int, width: int) -> list[str]:
    font = renderer.font(size)
    return wrap(text, width, lambda s: font.size(s)[0])


def rounded(target: pygame.Surface, rect, color, radius: int, width: int = 0) -> None:
    pygame.draw.rect(target, color, rect, width=width, border_radius=radius)


_shadow_cache: dict[tuple[int, int, int], pygame.Surface] = {}


def card(target: pygame.Surface, rect: pygame.Rect, color, radius: int, shadow: bool = True,
         border=None) -> None:
    """A raised card: soft shadow under a rounded rectangle."""
    if shadow:
        key = (rect.width, rect.height, radius)
        surf = _shadow_cache.get(key)
        if surf is None:
            surf = pygame.Surface((rect.width + 16, rect.height + 16), pygame.SRCALPHA)
            for i, alpha in enumerate((10, 14, 18)):
                pygame.draw.rect(surf, (90, 40, 20, alpha), surf.get_rect().inflate(-i * 6, -i * 6),
                                 border_radius=radius + 8 - i * 3)
            if len(_shadow_cache) > 256:
                _shadow_cache.clear()
            _shadow_cache[key] = surf
        target.blit(surf, (rect.x - 8, rect.y - 2))
    pygame.draw.rect(target, color, rect, border_radius=radius)
    if border is not None:
        pygame.draw.rect(target, border, rect, width=2, border_radius=radius)


_gradient_cache: dict[tuple, pygame.Surface] = {}


def vertical_gradient(size: tuple[int, int], top, bottom) -> pygame.Surface:
    key = (size, tuple(top), tuple(bottom))
    surf = _gradient_cache.get(key)
    if surf is None:
        w, h = size
        column = pygame.Surface((1, max(1, h)))
        for y in range(h):
            t = y / max(1, h - 1)
            column.set_at((0, y), [round(a + (b - a) * t) for a, b in zip(top[:3], bottom[:3])])
        surf = pygame.transform.scale(column, (max(1, w), max(1, h))).convert() if pygame.display.get_surface() \
            else pygame.transform.scale(column, (max(1, w), max(1, h)))
        if len(_gradient_cache) > 64:
            _gradient_cache.clear()
        _gradient_cache[key] = surf
    return surf


def star(target: pygame.Surface, center, radius: float, color) -> None:
    """A five-pointed star (decoration in the party style)."""
    import math

    cx, cy = center
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.4
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    pygame.draw.polygon(target, color, points)


_shade_cache: dict[tuple, pygame.Surface] = {}


def bottom_shade(size: tuple[int, int], color=(30, 0, 6), max_alpha: int = 215) -> pygame.Surface:
    """A transparent-to-dark ramp laid over the lower part of a picture so a
    caption on it stays readable."""
    key = (size, tuple(color), max_alpha)
    surf = _shade_cache.get(key)
    if surf is None:
        w, h = size
        column = pygame.Surface((1, max(1, h)), pygame.SRCALPHA)
        for y in range(h):
            t = y / max(1, h - 1)
            column.set_at((0, y), (*color[:3], int(max_alpha * min(1.0, t * 1.4) ** 1.5)))
        surf = pygame.transform.scale(column, (max(1, w), max(1, h)))
        if len(_shade_cache) > 32:
            _shade_cache.clear()
        _shade_cache[key] = surf
    return surf
