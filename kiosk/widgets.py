"""Touch widgets drawn immediate-mode: a screen draws its buttons each frame
and the same call registers them for hit testing, so what can be tapped is
always exactly what is visible."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pygame

from .render import card, rounded


@dataclass
class Button:
    rect: pygame.Rect
    label: str
    action: Callable[[], None] | None
    key: str = ""

    def hit(self, pos) -> bool:
        return self.rect.collidepoint(pos)


class ButtonBar:
    """The buttons registered during the last draw."""

    def __init__(self) -> None:
        self.items: list[Button] = []

    def reset(self) -> None:
        self.items = []

    def add(self, button: Button) -> Button:
        self.items.append(button)
        return button

    def tap(self, pos) -> bool:
        # Last drawn is on top.
        for button in reversed(self.items):
            if button.hit(pos):
                if button.action is not None:
                    button.action()
                return True
        return False

    def find(self, label: str) -> Button | None:
        for button in reversed(self.items):
            if button.label == label or button.key == label:
                return button
        for button in reversed(self.items):
            if label in button.label:
                return button
        return None


def draw_button(target: pygame.Surface, ui, bar: ButtonBar, rect, label: str, action, *,
                style: str = "primary", size: int | None = None, key: str = "", selected: bool = False,
                enabled: bool = True, align: str = "center") -> Button:
    """Draw a button of at least the touch size and register it."""
    theme, text = ui.theme, ui.text
    rect = pygame.Rect(rect)
    if rect.height < theme.touch:
        rect.inflate_ip(0, theme.touch - rect.height)
    if rect.width < theme.touch:
        rect.inflate_ip(theme.touch - rect.width, 0)
    radius = theme.s("radius")
    size = size or theme.s("font_h2")
    if style == "primary" or (style == "choice" and selected):
        fill, fg, border = theme.c("primary"), theme.c("on_primary"), None
    elif style == "gold":
        fill, fg, border = theme.c("gold"), theme.c("primary_deep"), None
    elif style == "tab":
        fill = theme.c("primary") if selected else theme.c("surface")
        fg = theme.c("on_primary") if selected else theme.c("primary")
        border = None if selected else theme.c("line")
    elif style == "header":
        fill, fg, border = theme.c("primary_dark"), theme.c("on_primary"), theme.c("gold")
    elif style == "field":  # an input box; the one being typed into has a gold frame
        fill, fg, border = theme.c("surface"), theme.c("text"), theme.c("gold") if selected else theme.c("line")
    else:  # ghost / choice not selected
        fill, fg, border = theme.c("surface"), theme.c("primary"), theme.c("line")
    if not enabled:
        fill, fg = theme.c("line"), theme.c("muted")
    if style == "field":
        rounded(target, rect, fill, radius)
        rounded(target, rect, border, radius, width=5 if selected else 2)
    elif style in ("ghost", "choice", "tab") and not selected:
        card(target, rect, fill, radius, shadow=True, border=border)
    else:
        rounded(target, rect, fill, radius)
        if border is not None:
            rounded(target, rect, border, radius, width=2)
    if align == "left":
        text.draw(target, label, (rect.x + 36, rect.centery), size, fg, bold=style in ("primary", "gold", "tab"),
                  anchor="midleft", max_width=rect.width - 72)
    else:
        text.draw(target, label, rect.center, size, fg, bold=style in ("primary", "gold", "tab"), anchor="center",
                  max_width=rect.width - 24)
    return bar.add(Button(rect, label, action if enabled else None, key=key or label))


KEYPAD_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "0", "删除")


class Keypad:
    """A numeric touch keypad editing a string value."""

    def __init__(self, max_len: int = 12, allow_dot: bool = True) -> None:
        self.value = ""
        self.max_len = max_len
        self.allow_dot = allow_dot

    def press(self, key: str) -> None:
        if key == "删除":
            self.value = self.value[:-1]
        elif key == "清空":
            self.value = ""
        elif key == ".":
            if self.allow_dot and "." not in self.value and len(self.value) < self.max_len:
                self.value = (self.value or "0") + "."
        elif key.isdigit() and len(self.value) < self.max_len:
            if "." in self.value and len(self.value.split(".")[1]) >= 2:
                return
            self.value += key

    def draw(self, target, ui, bar: ButtonBar, rect: pygame.Rect, prefix: str = "key") -> None:
        gap = ui.theme.s("gap") // 2
        cols, rows = 3, 4
        w = (rect.width - gap * (cols - 1)) // cols
        h = max(ui.theme.touch, (rect.height - gap * (rows - 1)) // rows)
        for i, key in enumerate(KEYPAD_KEYS):
            if key == "." and not self.allow_dot:
                key = "清空"
            r, c = divmod(i, cols)
            cell = pygame.Rect(rect.x + c * (w + gap), rect.y + r * (h + gap), w, h)
            draw_button(target, ui, bar, cell, key, lambda k=key: self.press(k), style="ghost",
                        size=ui.theme.s("font_title"), key=f"{prefix}:{key}")
