"""党员登录: member number and PIN on a touch keypad.

The kiosk cannot check a PIN by itself (it holds no member data); the PIN goes
with each LearningPoints message and the admin refuses points for a wrong one,
which the kiosk then shows.
"""

from __future__ import annotations

import re

import pygame

from ..render import card
from ..state import Member
from ..widgets import Keypad
from .base import Screen

MEMBER_NO = re.compile(r"^[0-9]{4,20}$")
PIN = re.compile(r"^[0-9]{4,12}$")


class SignInScreen(Screen):
    title = "党员登录"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.member_pad = Keypad(max_len=20, allow_dot=False)
        self.pin_pad = Keypad(max_len=12, allow_dot=False)
        self.field = "member"
        self.message = ""
        self.then = None

    def enter(self, then=None, **params) -> None:
        self.member_pad.value = ""
        self.pin_pad.value = ""
        self.field = "member"
        self.message = ""
        self.then = then

    def submit(self) -> None:
        number, pin = self.member_pad.value, self.pin_pad.value
        if not MEMBER_NO.match(number):
            self.message = "请输入4至20位数字的党员编号"
            self.field = "member"
            return
        if not PIN.match(pin):
            self.message = "请输入4至12位数字密码"
            self.field = "pin"
            return
        self.state.member = Member(number, pin)
        then, self.then = self.then, None
        self.app.back()
        if then is not None:
            result = then()
            current = self.app.current
            if isinstance(result, str) and hasattr(current, "message"):
                current.message = result

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        gap = theme.s("gap")
        portrait = self.app.portrait
        form_w = rect.width if portrait else rect.width // 2 - gap
        form = pygame.Rect(rect.x, rect.y, form_w, 820 if portrait else rect.height)
        card(surface, form, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
        x, y = form.x + 48, form.y + 48
        self.heading(surface, "党员登录 领取学习积分", (x, y), "font_h1")
        y += 110
        for key, label, pad, secret in (("member", "党员编号", self.member_pad, False),
                                        ("pin", "登录密码", self.pin_pad, True)):
            text.draw(surface, label, (x, y), theme.s("font_body"), theme.c("muted"))
            box = pygame.Rect(x, y + 50, form.width - 96, 110)
            shown = "●" * len(pad.value) if secret else pad.value
            self.button(surface, box, shown or "点击输入", lambda k=key: setattr(self, "field", k), style="field",
                        selected=self.field == key, size=theme.s("font_title"), key=f"field:{key}")
            y = box.bottom + 40
        if self.message:
            text.draw(surface, self.message, (x, y), theme.s("font_body"), theme.c("wrong"))
        self.button(surface, (x, form.bottom - theme.touch - 48, form.width - 96, theme.touch), "登 录", self.submit,
                    key="login")
        if portrait:
            pad_rect = pygame.Rect(rect.x + 80, form.bottom + gap, rect.width - 160, rect.bottom - form.bottom - gap)
        else:
            pad_rect = pygame.Rect(form.right + gap * 2, rect.y, rect.right - form.right - gap * 2, rect.height)
        (self.member_pad if self.field == "member" else self.pin_pad).draw(surface, self.app, self.bar, pad_rect)

    def describe(self) -> dict:
        return {"screen": self.name, "field": self.field, "member": self.member_pad.value,
                "pin_len": len(self.pin_pad.value), "message": self.message}
