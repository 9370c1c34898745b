"""The live check-in board of a meeting in progress: names appear as members
are checked in (AttendanceBoard from the admin, CheckIn from the devices)."""

from __future__ import annotations

import pygame

from .. import meetings as rules
from ..render import card
from .base import Screen


class CheckInBoardScreen(Screen):
    title = "签到看板"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.meeting = None
        self._seen = 0

    def enter(self, meeting=None, **params) -> None:
        self.meeting = meeting
        self._seen = 0

    def names(self) -> list[str]:
        return self.state.present_names(self.meeting.id) if self.meeting else []

    def expected(self) -> int:
        board = self.state.boards.get(self.meeting.id) if self.meeting else None
        if board is not None and board.expected:
            return board.expected
        return len(self.meeting.expected_members) if self.meeting else 0

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        if self.meeting is None:
            self.empty(surface, rect, "没有进行中的会议")
            return
        gap = theme.s("gap")
        names = self.names()
        expected = self.expected()
        head = pygame.Rect(rect.x, rect.y, rect.width, 200)
        card(surface, head, theme.c("primary"), theme.s("radius"))
        text.draw(surface, self.meeting.title, (head.x + 48, head.y + 40), theme.s("font_title"), theme.c("on_primary"),
                  bold=True, max_width=head.width - 560)
        text.draw(surface, f"{self.meeting.meeting_type} · {self.meeting.place} · "
                           f"{rules.when_text(self.meeting, self.state.tz)}",
                  (head.x + 48, head.y + 120), theme.s("font_body"), theme.c("gold_light"), max_width=head.width - 560)
        text.draw(surface, f"{len(names)}", (head.right - 230, head.centery), 110, theme.c("gold"), bold=True,
                  anchor="midright")
        text.draw(surface, f"/ {expected} 人", (head.right - 210, head.centery + 18), theme.s("font_h2"),
                  theme.c("on_primary"), anchor="midleft")
        rate = f"出席率 {round(100 * len(names) / expected)}%" if expected else "已签到"
        text.draw(surface, rate, (head.right - 48, head.y + 40), theme.s("font_small"), theme.c("gold_light"),
                  anchor="topright")
        area = pygame.Rect(rect.x, head.bottom + gap, rect.width, rect.height - head.height - gap)
        if not names:
            self.empty(surface, area, "等待党员签到……")
            return
        cols = 4 if self.app.portrait else 6
        cell_w = (area.width - gap * (cols - 1)) // cols
        cell_h = 110
        for i, name in enumerate(names[: cols * max(1, area.height // (cell_h + gap))]):
            r, c = divmod(i, cols)
            cell = pygame.Rect(area.x + c * (cell_w + gap), area.y + r * (cell_h + gap), cell_w, cell_h)
            newest = i == len(names) - 1  # the one who just arrived stands out
            card(surface, cell, theme.c("gold_pale") if newest else theme.c("surface"), theme.s("radius"),
                 border=theme.c("gold"))
            text.draw(surface, name, cell.center, theme.s("font_h1"), theme.c("primary_dark"), bold=True,
                      anchor="center", max_width=cell.width - 20)

    def describe(self) -> dict:
        return {"screen": self.name, "meeting": self.meeting.id if self.meeting else None, "present": self.names(),
                "expected": self.expected() if self.meeting else 0}
