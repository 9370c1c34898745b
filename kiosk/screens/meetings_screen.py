"""三会一课: today's and this week's meetings per branch; meetings in progress
lead to the live check-in board."""

from __future__ import annotations

import pygame

from .. import meetings as rules
from ..render import card
from ..widgets import Button
from .base import Screen

TYPE_COLORS = {"支部党员大会": "primary", "支委会": "primary_dark", "党小组会": "gold", "党课": "primary_deep"}


class MeetingsScreen(Screen):
    title = "三会一课"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.tab = "today"
        self.page = 0

    def enter(self, tab: str = "today", **params) -> None:
        self.tab = tab
        self.page = 0

    def listed(self) -> list:
        meetings = self.items("meeting")
        now = self.state.now()
        chosen = rules.today(meetings, now, self.state.tz) if self.tab == "today" else \
            rules.this_week(meetings, now, self.state.tz)
        # Grouped per branch, in order of each branch's first meeting.
        order: list[str] = []
        for meeting in chosen:
            if meeting.branch_id not in order:
                order.append(meeting.branch_id)
        return sorted(chosen, key=lambda m: (order.index(m.branch_id), m.starts_at))

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        gap = theme.s("gap")
        x = rect.x
        for key, label in (("today", "今日会议"), ("week", "本周安排")):
            self.button(surface, (x, rect.y, 260, theme.touch), label, lambda k=key: self._tab(k), style="tab",
                        selected=self.tab == key)
            x += 260 + gap // 2
        now = self.state.now()
        live = rules.in_progress(self.items("meeting"), now, self.state.tz)
        if live:
            self.button(surface, (rect.right - 380, rect.y, 380, theme.touch), "签到看板（进行中）",
                        lambda: self.app.navigate("checkin_board", meeting=live[0]), style="gold", key="board")
        body = pygame.Rect(rect.x, rect.y + theme.touch + gap, rect.width, rect.height - theme.touch - gap)
        meetings = self.listed()
        if not meetings:
            self.empty(surface, body, "今日没有会议安排" if self.tab == "today" else "本周没有会议安排")
            return
        names = {o.id: o.title for o in self.items("organisation")}
        row_h = 150
        per_page = max(1, (body.height - theme.touch - gap) // (row_h + gap // 2))
        pages = -(-len(meetings) // per_page)
        self.page = min(self.page, pages - 1)
        y = body.y
        live_ids = {m.id for m in live}
        for meeting in meetings[self.page * per_page:(self.page + 1) * per_page]:
            row = pygame.Rect(body.x, y, body.width, row_h)
            is_live = meeting.id in live_ids
            card(surface, row, theme.c("surface"), theme.s("radius"), border=theme.c("gold") if is_live else theme.c("line"))
            tag = pygame.Rect(row.x + 30, row.y + 30, 220, 56)
            pygame.draw.rect(surface, theme.c(TYPE_COLORS.get(meeting.meeting_type, "primary")), tag, border_radius=10)
            text.draw(surface, meeting.meeting_type, tag.center, theme.s("font_small"), theme.c("on_primary"), bold=True,
                      anchor="center")
            text.draw(surface, meeting.title, (tag.right + 30, row.y + 26), theme.s("font_h2"), theme.c("text"),
                      bold=True, max_width=row.width - 700)
            text.draw(surface, f"{names.get(meeting.branch_id, meeting.branch_id)} · {meeting.place}",
                      (tag.right + 30, row.y + 88), theme.s("font_small"), theme.c("muted"))
            text.draw(surface, rules.when_text(meeting, self.state.tz), (row.right - 30, row.y + 40),
                      theme.s("font_body"), theme.c("primary_dark"), anchor="topright")
            if is_live:
                present = len(self.state.present_names(meeting.id))
                text.draw(surface, f"进行中 · 已签到 {present} 人", (row.right - 30, row.y + 96), theme.s("font_small"),
                          theme.c("primary"), bold=True, anchor="topright")
                self.bar.add(Button(row, meeting.title, lambda m=meeting: self.app.navigate("checkin_board", meeting=m)))
            y += row_h + gap // 2
        self.pager(surface, body, self.page, pages, lambda: self._page(-1), lambda: self._page(1))

    def _tab(self, key: str) -> None:
        self.tab, self.page = key, 0

    def _page(self, delta: int) -> None:
        self.page = max(0, self.page + delta)

    def describe(self) -> dict:
        return {"screen": self.name, "tab": self.tab, "meetings": [m.id for m in self.listed()]}
