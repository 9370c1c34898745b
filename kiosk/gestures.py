"""Turn raw mouse and finger events into taps and swipes.

A press and release that moved less than ``slop`` pixels is a tap; a longer
move is a swipe in its dominant direction. Finger coordinates arrive
normalised (0..1) and are scaled to the window.
"""

from __future__ import annotations

import pygame

from . import events


class GestureTracker:
    def __init__(self, size: tuple[int, int], slop: int = 40) -> None:
        self.size = size
        self.slop = slop
        self._down: tuple[int, int] | None = None

    def _pos(self, event: pygame.event.Event) -> tuple[int, int]:
        if event.type in (pygame.FINGERDOWN, pygame.FINGERUP, pygame.FINGERMOTION):
            return int(event.x * self.size[0]), int(event.y * self.size[1])
        return tuple(event.pos)

    def feed(self, event: pygame.event.Event) -> pygame.event.Event | None:
        """A TAP or SWIPE event when ``event`` completes a gesture."""
        if event.type in (pygame.MOUSEBUTTONDOWN, pygame.FINGERDOWN):
            if getattr(event, "touch", False) and event.type == pygame.MOUSEBUTTONDOWN:
                return None  # SDL doubles finger events as mouse events
            if event.type == pygame.MOUSEBUTTONDOWN and getattr(event, "button", 1) != 1:
                return None
            self._down = self._pos(event)
            return None
        if event.type in (pygame.MOUSEBUTTONUP, pygame.FINGERUP):
            if getattr(event, "touch", False) and event.type == pygame.MOUSEBUTTONUP:
                return None
            if self._down is None:
                return None
            start, end = self._down, self._pos(event)
            self._down = None
            dx, dy = end[0] - start[0], end[1] - start[1]
            if abs(dx) < self.slop and abs(dy) < self.slop:
                return pygame.event.Event(events.TAP, pos=start)
            if abs(dx) >= abs(dy):
                direction = "left" if dx < 0 else "right"
            else:
                direction = "up" if dy < 0 else "down"
            return pygame.event.Event(events.SWIPE, pos=start, dx=dx, dy=dy, direction=direction)
        return None
