"""The red header on every screen: back and home buttons, the title, the
clock and date, and the online/offline dot."""

from __future__ import annotations

import pygame

from ..render import star, vertical_gradient
from ..widgets import draw_button


def draw_header(app, screen) -> None:
    surface, theme, text = app.surface, app.theme, app.text
    w = app.size[0]
    h = theme.s("header_h")
    surface.blit(vertical_gradient((w, h), theme.c("primary"), theme.c("primary_dark")), (0, 0))
    pygame.draw.rect(surface, theme.c("gold"), (0, h - 6, w, 6))
    m = theme.s("margin")
    x = m
    if app.current_name != "home":
        draw_button(surface, app, app.chrome, (x, (h - 6 - theme.touch) // 2, 190, theme.touch), "‹ 返回",
                    app.back, style="header", size=theme.s("font_h2"), key="back")
        x += 190 + theme.s("gap") // 2
        draw_button(surface, app, app.chrome, (x, (h - 6 - theme.touch) // 2, 160, theme.touch), "首页",
                    lambda: app.navigate("home"), style="header", size=theme.s("font_h2"), key="home")
        x += 160 + theme.s("gap")
        title = screen.title
    else:
        star(surface, (x + 34, h // 2 - 3), 34, theme.c("gold"))
        x += 90
        title = (app.state.manifest.settings.get("title") if app.state.manifest else None) or "智慧党建展厅"
    clock_w = _draw_clock(app, h)
    text.draw(surface, title, (x, (h - 6) // 2), theme.s("font_title"), theme.c("on_primary"), bold=True,
              anchor="midleft", max_width=w - x - clock_w - m)


def _draw_clock(app, h: int) -> int:
    surface, theme, text = app.surface, app.theme, app.text
    now = app.state.now()
    right = app.size[0] - theme.s("margin")
    online = app.state.online
    label = "在线" if online else "离线"
    r = text.draw(surface, label, (right, (h - 6) // 2), theme.s("font_small"), theme.c("gold_pale"),
                  anchor="midright")
    pygame.draw.circle(surface, theme.c("online" if online else "offline"), (r.left - 22, r.centery), 12)
    pygame.draw.circle(surface, theme.c("gold_pale"), (r.left - 22, r.centery), 12, 2)
    x = r.left - 60
    weekday = "一二三四五六日"[now.weekday()]
    t = text.draw(surface, now.strftime("%H:%M"), (x, (h - 6) // 2), theme.s("font_title"), theme.c("on_primary"),
                  bold=True, anchor="midright")
    if app.portrait:
        return app.size[0] - t.left + theme.s("gap")  # no room for the date beside the title
    d = text.draw(surface, f"{now.year}年{now.month}月{now.day}日", (t.left - 24, (h - 6) // 2 - 20),
                  theme.s("font_small"), theme.c("gold_pale"), anchor="midright")
    text.draw(surface, f"星期{weekday}", (t.left - 24, (h - 6) // 2 + 22), theme.s("font_small"),
              theme.c("gold_pale"), anchor="midright")
    return app.size[0] - d.left + theme.s("gap")
