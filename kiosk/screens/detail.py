"""One item in full: images, paginated text, swipe to the previous/next item.

Used for news, notices, lessons (with narration), honours, archive documents
and for the remote ``show_item`` command, whatever the item kind.
"""

from __future__ import annotations

import logging

import pygame

from ..render import card
from .base import Screen

log = logging.getLogger(__name__)

KIND_NAMES = {"news": "党情速递", "notice": "通知公告", "lesson": "学习课程", "honour": "荣誉库", "archive": "史料库",
              "quiz": "知识测验", "service": "便民服务", "meeting": "三会一课", "organisation": "党组织",
              "exhibit": "展品", "faq": "常见问题"}


def body_of(item) -> str:
    parts = [getattr(item, "body", "") or getattr(item, "summary", "") or getattr(item, "caption", "")]
    if getattr(item, "steps", None):
        parts.append("\n".join(f"{i}. {s}" for i, s in enumerate(item.steps, 1)))
    if getattr(item, "answer", None):
        parts.append(item.answer)
    if getattr(item, "narration", None):
        parts.append(item.narration)
    return "\n".join(p for p in parts if p)


def meta_of(item) -> str:
    kind = item.kind
    if kind == "news":
        return " · ".join(x for x in (str(item.published_on or ""), item.source or "") if x)
    if kind == "notice":
        return validity_text(item)
    if kind in ("honour", "archive"):
        return f"{item.category} · {item.year}年"
    if kind == "lesson":
        return f"完成学习可得 {item.points} 积分"
    return KIND_NAMES.get(kind, "")


def validity_text(notice) -> str:
    if notice.valid_from and notice.valid_to:
        return f"有效期：{notice.valid_from:%Y年%m月%d日} 至 {notice.valid_to:%Y年%m月%d日}"
    if notice.valid_to:
        return f"有效期至 {notice.valid_to:%Y年%m月%d日}"
    if notice.valid_from:
        return f"自 {notice.valid_from:%Y年%m月%d日} 起"
    return "长期有效"


def images_of(item) -> list:
    refs = list(getattr(item, "images", []) or [])
    if getattr(item, "image", None) is not None:
        refs.insert(0, item.image)
    return refs


class DetailScreen(Screen):
    title = "详情"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.item = None
        self.siblings: list = []
        self.page = 0
        self.pages = 1
        self.image_index = 0
        self.sound = None
        self.message = ""

    def enter(self, item=None, siblings=None, **params) -> None:
        self.item = item
        self.siblings = list(siblings or [])
        self.page = 0
        self.image_index = 0
        self.message = ""
        self.stop_audio()
        self.title = KIND_NAMES.get(item.kind, "详情") if item else "详情"
        if item is not None:
            self.app.viewing(item)

    def resume(self) -> None:
        if self.item is not None:
            self.app.viewing(self.item)

    def content_changed(self) -> None:
        if self.item is None or self.manifest is None:
            return
        fresh = self.manifest.item(self.item.id)
        if fresh is not None:
            self.item = fresh
            self.siblings = [self.manifest.item(s.id) or s for s in self.siblings if self.manifest.item(s.id)]
        elif self.app.current is self:
            # The item was withdrawn: do not keep showing it.
            self.item = None
            self.app.navigate("home")

    def on_swipe(self, direction: str) -> bool:
        if direction in ("up", "down"):
            self.turn(1 if direction == "up" else -1)
            return True
        if direction in ("left", "right") and self.item in self.siblings and len(self.siblings) > 1:
            i = self.siblings.index(self.item)
            nxt = self.siblings[(i + (1 if direction == "left" else -1)) % len(self.siblings)]
            self.enter(item=nxt, siblings=self.siblings)
            return True
        return False

    def turn(self, delta: int) -> None:
        self.page = min(max(0, self.page + delta), self.pages - 1)

    # -- narration ------------------------------------------------------------------
    def play_audio(self) -> None:
        ref = getattr(self.item, "audio", None)
        path = self.app.images.resolve(ref.sha256) if ref else None
        if path is None:
            self.message = "讲解音频暂不可用"
            return
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init()
            self.sound = pygame.mixer.Sound(str(path))
            self.sound.play()
            self.message = "正在播放讲解……"
        except pygame.error as exc:
            log.warning("narration %s cannot play: %s", ref.sha256[:12], exc)
            self.message = "讲解音频暂不可用"
            self.sound = None

    def stop_audio(self) -> None:
        if self.sound is not None:
            try:
                self.sound.stop()
            except pygame.error:
                pass
        self.sound = None

    def toggle_audio(self) -> None:
        if self.sound is not None:
            self.stop_audio()
            self.message = ""
        else:
            self.play_audio()

    def finish_lesson(self) -> None:
        from .education import award_points

        self.message = award_points(self.app, self.item.points, f"完成课程：{self.item.title}", self.item.id)

    # -- drawing ----------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        item = self.item
        if item is None:
            self.empty(surface, rect, "内容不存在")
            return
        theme, text = self.theme, self.text
        gap = theme.s("gap")
        refs = images_of(item)
        image_rect = None
        if refs:
            if self.app.portrait:
                image_rect = pygame.Rect(rect.x, rect.y, rect.width, int(rect.width * 0.5))
                text_rect = pygame.Rect(rect.x, image_rect.bottom + gap, rect.width, rect.bottom - image_rect.bottom - gap)
            else:
                image_rect = pygame.Rect(rect.x, rect.y, int(rect.width * 0.42), rect.height)
                text_rect = pygame.Rect(image_rect.right + gap * 2, rect.y, rect.right - image_rect.right - gap * 2,
                                        rect.height)
            self._draw_image(surface, image_rect, refs)
        else:
            text_rect = rect.inflate(-rect.width // 8, 0)
        card(surface, text_rect.inflate(gap, gap // 2), theme.c("surface"), theme.s("radius"), border=theme.c("line"))
        inner = text_rect.inflate(-gap, -gap)
        y = inner.y
        if getattr(item, "urgent", False) or getattr(item, "important", False):
            tag = pygame.Rect(inner.x, y, 120, 52)
            pygame.draw.rect(surface, theme.c("urgent"), tag, border_radius=10)
            text.draw(surface, "紧急" if getattr(item, "urgent", False) else "重要", tag.center, theme.s("font_small"),
                      theme.c("on_primary"), bold=True, anchor="center")
            y = tag.bottom + 16
        title_lines = text.wrap(item.title, theme.s("font_h1"), inner.width)[:3]
        y = text.draw_lines(surface, title_lines, (inner.x, y), theme.s("font_h1"), theme.c("primary_dark"), 1.3)
        meta = meta_of(item)
        if meta:
            text.draw(surface, meta, (inner.x, y + 4), theme.s("font_small"), theme.c("muted"), max_width=inner.width)
            y += theme.s("font_small") + 24
        pygame.draw.line(surface, theme.c("gold_light"), (inner.x, y), (inner.right, y), 3)
        y += 24
        actions_h = theme.touch + gap + (theme.s("font_small") + 16 if item.kind == "lesson" else 0)
        body_box = pygame.Rect(inner.x, y, inner.width, inner.bottom - y - actions_h)
        spacing = theme.sizes.get("line_spacing", 1.55)
        pages = text.pages(body_of(item), theme.s("font_body"), body_box.width, body_box.height, spacing)
        self.pages = len(pages)
        self.page = min(self.page, self.pages - 1)
        text.draw_lines(surface, pages[self.page], body_box.topleft, theme.s("font_body"), theme.c("text"), spacing)
        self._draw_actions(surface, pygame.Rect(inner.x, inner.bottom - theme.touch, inner.width, theme.touch))

    def _draw_image(self, surface, rect, refs) -> None:
        theme = self.theme
        ref = refs[self.image_index % len(refs)]
        image = self.app.images.get(ref.sha256, rect.size)
        card(surface, rect, theme.c("primary_deep"), theme.s("radius"))
        if image is not None:
            surface.blit(image, image.get_rect(center=rect.center))
        else:
            self.text.draw(surface, "图片暂不可用", rect.center, theme.s("font_h2"), theme.c("gold_light"), anchor="center")
        if len(refs) > 1:
            self.button(surface, (rect.right - 200, rect.bottom - 110, 180, 90), "下一张",
                        lambda: setattr(self, "image_index", self.image_index + 1), style="gold")

    def _draw_actions(self, surface, row: pygame.Rect) -> None:
        """Page turning on the left, the lesson's own actions on the right."""
        theme, text = self.theme, self.text
        gap = theme.s("gap") // 2
        if self.pages > 1:
            self.button(surface, (row.x, row.y, 170, row.height), "上一页", lambda: self.turn(-1), style="ghost",
                        enabled=self.page > 0, size=theme.s("font_body"))
            r = text.draw(surface, f"{self.page + 1}/{self.pages}", (row.x + 170 + 60, row.centery),
                          theme.s("font_body"), theme.c("muted"), anchor="center")
            self.button(surface, (r.centerx + 60, row.y, 170, row.height), "下一页", lambda: self.turn(1),
                        style="ghost", enabled=self.page < self.pages - 1, size=theme.s("font_body"))
        right = row.right
        if self.item.kind == "lesson":
            self.button(surface, (right - 240, row.y, 240, row.height), "学完领积分", self.finish_lesson,
                        style="primary", size=theme.s("font_body"))
            right -= 240 + gap
            if self.item.audio is not None:
                self.button(surface, (right - 220, row.y, 220, row.height), "停止讲解" if self.sound else "播放讲解",
                            self.toggle_audio, style="gold", key="narration", size=theme.s("font_body"))
        if self.message:
            text.draw(surface, self.message, (row.right, row.y - 16), theme.s("font_small"), theme.c("primary"),
                      anchor="bottomright", max_width=row.width)

    def describe(self) -> dict:
        return {"screen": self.name, "item": self.item.id if self.item else None, "page": self.page,
                "pages": self.pages, "message": self.message}
