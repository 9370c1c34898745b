"""Overlays drawn over any screen: the emergency takeover and robot subtitles."""

from __future__ import annotations

import datetime as dt

import pygame

from ..render import star, vertical_gradient

LEVELS = {"critical": "紧急通知", "warning": "重要提醒", "info": "通知"}


def draw_alert(app, surface: pygame.Surface) -> None:
    alert = app.state.alert
    theme, text = app.theme, app.text
    w, h = surface.get_size()
    surface.blit(vertical_gradient((w, h), theme.c("alert_bg"), theme.c("primary_deep")), (0, 0))
    m = theme.s("margin") * 2
    band = pygame.Rect(0, 0, w, 200)
    pygame.draw.rect(surface, theme.c("gold"), (0, band.bottom - 8, w, 8))
    star(surface, (m + 50, band.centery), 50, theme.c("gold"))
    text.draw(surface, LEVELS.get(alert.level, "紧急通知"), (m + 130, band.centery), theme.s("font_display"),
              theme.c("gold_light"), bold=True, anchor="midleft")
    title_rect = pygame.Rect(m, band.bottom + 80, w - 2 * m, 220)
    y = text.draw_wrapped(surface, alert.title, title_rect, theme.s("font_display"), theme.c("alert_text"),
                          spacing=1.3, max_lines=2)
    body_rect = pygame.Rect(m, y + 40, w - 2 * m, h - y - 40 - 180)
    text.draw_wrapped(surface, alert.body, body_rect, theme.s("font_h1"), theme.c("alert_text"), spacing=1.5)
    if alert.expires_at:
        until = dt.datetime.fromtimestamp(alert.expires_at, app.state.tz)
        text.draw(surface, f"有效至 {until:%m月%d日 %H:%M}", (m, h - 100), theme.s("font_h2"), theme.c("gold_light"),
                  anchor="midleft")
    text.draw(surface, "请按照现场工作人员指引行动", (w - m, h - 100), theme.s("font_h2"), theme.c("gold_light"),
              anchor="midright")


def draw_subtitles(app, surface: pygame.Surface) -> None:
    """The robot's conversation as a band at the bottom of the screen."""
    theme, text = app.theme, app.text
    w, h = surface.get_size()
    m = theme.s("margin")
    size = theme.s("font_h2")
    rows = []
    for turn in app.state.dialogue:
        who = "观众提问" if turn.role == "visitor" else "讲解员答"
        lines = text.wrap(turn.text, size, w - 2 * m - 220)[:3]
        rows.append((who, turn.role, lines))
    line_h = text.line_height(size, 1.35)
    height = sum(len(lines) for _, _, lines in rows) * line_h + 40 * len(rows) + 30
    band = pygame.Surface((w, height), pygame.SRCALPHA)
    band.fill((40, 8, 12, 242))
    pygame.draw.rect(band, theme.c("gold"), (0, 0, w, 5))
    y = 30
    for who, role, lines in rows:
        color = theme.c("gold_light") if role == "visitor" else theme.c("on_primary")
        tag = pygame.Rect(m, y, 190, line_h - 6)
        pygame.draw.rect(band, theme.c("gold") if role == "visitor" else theme.c("primary"), tag, border_radius=12)
        text.draw(band, who, tag.center, theme.s("font_small"),
                  theme.c("primary_deep") if role == "visitor" else theme.c("on_primary"), bold=True, anchor="center")
        for line in lines:
            text.draw(band, line, (m + 220, y), size, color)
            y += line_h
        y += 40
    surface.blit(band, (0, h - height))


def draw_toast(app, surface: pygame.Surface, message: str) -> None:
    """A short confirmation floating above the bottom edge."""
    theme, text = app.theme, app.text
    label = text.render(message, theme.s("font_h2"), theme.c("on_primary"), bold=True)
    pill = label.get_rect(midbottom=(surface.get_width() // 2, surface.get_height() - 80)).inflate(80, 40)
    pygame.draw.rect(surface, theme.c("primary_deep"), pill, border_radius=pill.height // 2)
    pygame.draw.rect(surface, theme.c("gold"), pill, width=3, border_radius=pill.height // 2)
    surface.blit(label, label.get_rect(center=pill.center))
