"""组织地图 (一点到支部): branch pins on the local map image; tap a pin for the
branch card with its member count and next meeting."""

from __future__ import annotations

import logging

import pygame

from .. import meetings as rules
from ..mapproj import Bounds, place_pins
from ..render import card, star
from ..widgets import Button
from .base import Screen

log = logging.getLogger(__name__)


class MapScreen(Screen):
    title = "组织地图"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.selected: str | None = None
        self._pins: dict[str, tuple[int, int]] = {}
        self._pins_key = None

    def enter(self, **params) -> None:
        self.selected = None

    def content_changed(self) -> None:
        self._pins_key = None

    def pins(self, size: tuple[int, int]) -> dict[str, tuple[int, int]]:
        key = (id(self.manifest), size)
        if key != self._pins_key:
            # Logged once per manifest and size, not every frame.
            info = self.manifest.map if self.manifest else None
            self._pins = place_pins(self.items("organisation"), Bounds.of(info), size) if info else {}
            self._pins_key = key
        return self._pins

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        info = self.manifest.map if self.manifest else None
        if info is None:
            self.empty(surface, rect, "暂无地图")
            return
        gap = theme.s("gap")
        portrait = self.app.portrait
        card_w = rect.width if portrait else 620
        if portrait:
            # As tall as the picture needs, the branch card gets the rest.
            map_area = pygame.Rect(rect.x, rect.y, rect.width, min(int(rect.width * 0.66), rect.height - 760 - gap))
        else:
            map_area = pygame.Rect(rect.x, rect.y, rect.width - card_w - gap, rect.height)
        image = self.app.images.get(info.image.sha256, map_area.size)
        if image is None:
            # No picture: keep the pins on a plain board so the map still works.
            image = pygame.Surface((map_area.width, int(map_area.width * 0.62)))
            image.fill(theme.c("surface_alt"))
            text.draw(image, "地图图片暂不可用", image.get_rect().center, theme.s("font_h2"), theme.c("muted"),
                      anchor="center")
        placed = image.get_rect(center=map_area.center)
        card(surface, placed.inflate(16, 16), theme.c("surface"), theme.s("radius"))
        surface.blit(image, placed)
        names = {o.id: o for o in self.items("organisation")}
        for branch_id, (px, py) in self.pins(placed.size).items():
            branch = names.get(branch_id)
            if branch is None:
                continue
            pos = (placed.x + px, placed.y + py)
            chosen = branch_id == self.selected
            self._pin(surface, pos, chosen)
            label = text.render(branch.title, theme.s("font_small"), theme.c("primary_deep"), bold=True)
            lr = label.get_rect(midtop=(pos[0], pos[1] + 10))
            pygame.draw.rect(surface, theme.c("gold_pale") if not chosen else theme.c("gold"), lr.inflate(16, 6),
                             border_radius=8)
            surface.blit(label, lr)
            # The finger target is the pin itself (labels of close branches may touch).
            hit = pygame.Rect(0, 0, theme.touch, theme.touch)
            hit.midbottom = (pos[0], pos[1] + 10)
            self.bar.add(Button(hit, branch.title, lambda b=branch_id: self._select(b), key=f"pin:{branch_id}"))
        panel = pygame.Rect(rect.x, map_area.bottom + gap, rect.width, rect.bottom - map_area.bottom - gap) if portrait \
            else pygame.Rect(map_area.right + gap, rect.y, card_w, rect.height)
        self._branch_card(surface, panel, names.get(self.selected))

    def _pin(self, surface, pos, chosen: bool) -> None:
        theme = self.theme
        x, y = pos
        color = theme.c("primary_deep") if chosen else theme.c("primary")
        r = 30 if chosen else 24
        pygame.draw.polygon(surface, color, [(x - r * 0.7, y - r * 1.6), (x + r * 0.7, y - r * 1.6), (x, y)])
        pygame.draw.circle(surface, color, (x, y - r * 2), r)
        star(surface, (x, y - r * 2), r * 0.7, theme.c("gold"))

    def _select(self, branch_id: str) -> None:
        self.selected = branch_id

    def _branch_card(self, surface, panel, branch) -> None:
        theme, text = self.theme, self.text
        card(surface, panel, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
        inner = panel.inflate(-64, -64)
        if branch is None:
            self.heading(surface, "点击地图上的党旗", inner.topleft, "font_h2")
            text.draw_wrapped(surface, f"共 {len(self._pins)} 个党组织已标注位置。点击图标查看支部的党员人数和下一次会议安排。",
                              pygame.Rect(inner.x, inner.y + 90, inner.width, 300), theme.s("font_body"), theme.c("muted"))
            return
        header = pygame.Rect(panel.x, panel.y, panel.width, 150)
        pygame.draw.rect(surface, theme.c("primary"), header, border_top_left_radius=theme.s("radius"),
                         border_top_right_radius=theme.s("radius"))
        text.draw(surface, branch.title, (inner.x, header.centery), theme.s("font_h1"), theme.c("on_primary"), bold=True,
                  anchor="midleft", max_width=inner.width)
        y = header.bottom + 36
        text.draw(surface, "党员人数", (inner.x, y), theme.s("font_body"), theme.c("muted"))
        text.draw(surface, f"{branch.member_count} 名", (inner.right, y - 10), theme.s("font_title"), theme.c("primary"),
                  bold=True, anchor="topright")
        y += 100
        for label, value in (("支部书记", branch.secretary), ("地址", branch.address), ("电话", branch.phone)):
            if value:
                text.draw(surface, label, (inner.x, y), theme.s("font_body"), theme.c("muted"))
                text.draw(surface, value, (inner.right, y), theme.s("font_body"), theme.c("text"), anchor="topright",
                          max_width=inner.width - 170)
                y += 64
        pygame.draw.line(surface, theme.c("gold_light"), (inner.x, y + 10), (inner.right, y + 10), 3)
        y += 40
        text.draw(surface, "下一次会议", (inner.x, y), theme.s("font_h2"), theme.c("primary_dark"), bold=True)
        y += 64
        upcoming = rules.next_meeting(self.items("meeting"), branch.id, self.state.now(), self.state.tz)
        if upcoming is None:
            text.draw(surface, "暂无安排", (inner.x, y), theme.s("font_body"), theme.c("muted"))
        else:
            text.draw(surface, upcoming.title, (inner.x, y), theme.s("font_body"), theme.c("text"), bold=True,
                      max_width=inner.width)
            text.draw(surface, f"{upcoming.meeting_type} · {rules.when_text(upcoming, self.state.tz)}",
                      (inner.x, y + 56), theme.s("font_small"), theme.c("muted"), max_width=inner.width)

    def describe(self) -> dict:
        return {"screen": self.name, "selected": self.selected, "pins": sorted(self._pins)}
