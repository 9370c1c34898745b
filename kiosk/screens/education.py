"""学习教育: lessons, quizzes, member sign-in and the points ranking."""

from __future__ import annotations

import pygame

from broker.messages import LearningPoints

from ..quiz import problems
from ..render import card
from ..widgets import Button
from .base import Screen, grid


def award_points(app, points: int, reason: str, item_id: str | None) -> str:
    """Send earned points to the admin (which keeps the tally); returns the
    message to show. Without a signed-in member, asks to sign in first."""
    member = app.state.member
    if member is None:
        app.navigate("signin", then=lambda: award_points(app, points, reason, item_id))
        return "请先登录"
    message = LearningPoints(site_id=app.state.site_id, device_id=app.state.device_id, member_no=member.member_no,
                             pin=member.pin, points=points, reason=reason, item_id=item_id)
    app.outbox.add(message)  # kept until the admin's PointsAck, even across restarts
    if app.state.send(message) and app.state.online:
        return f"已提交 {points} 积分，等待后台确认"
    return f"{points} 积分已保存，联网后自动提交"


class EducationScreen(Screen):
    title = "学习教育"

    def __init__(self, app, name) -> None:
        super().__init__(app, name)
        self.tab = "lessons"

    def enter(self, tab: str = "lessons", **params) -> None:
        self.tab = tab

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        theme, text = self.theme, self.text
        gap = theme.s("gap")
        tabs = [("lessons", "学习课程"), ("quizzes", "知识测验")]
        x = rect.x
        for key, label in tabs:
            self.button(surface, (x, rect.y, 260, theme.touch), label, lambda k=key: setattr(self, "tab", k),
                        style="tab", selected=self.tab == key)
            x += 260 + gap // 2
        member = self.state.member
        right = rect.right
        # Portrait has no room beside the tabs: the member row goes below them.
        row_y = rect.y + (theme.touch + gap // 2 if self.app.portrait else 0)
        self.button(surface, (right - 300, row_y, 300, theme.touch), "积分排名",
                    lambda: self.app.navigate("ranking"), style="gold")
        if member is None:
            self.button(surface, (right - 620, row_y, 300, theme.touch), "党员登录",
                        lambda: self.app.navigate("signin"), style="primary")
        else:
            self.button(surface, (right - 620, row_y, 300, theme.touch), "退出登录", self.sign_out, style="ghost")
            text.draw(surface, f"党员 {member.member_no} 已登录", (right - 650, row_y + theme.touch // 2),
                      theme.s("font_body"), theme.c("primary"), anchor="midright")
        top = row_y + theme.touch + gap
        body = pygame.Rect(rect.x, top, rect.width, rect.bottom - top)
        if self.tab == "lessons":
            self._lessons(surface, body)
        else:
            self._quizzes(surface, body)

    def sign_out(self) -> None:
        self.state.member = None

    def _lessons(self, surface, rect) -> None:
        theme, text = self.theme, self.text
        lessons = self.items("lesson")
        if not lessons:
            self.empty(surface, rect, "暂无课程")
            return
        cols = 2 if self.app.portrait else 3
        cells = grid(rect, min(len(lessons), cols * 2), cols, theme.s("gap"), row_h=(rect.height - theme.s("gap")) // 2)
        for cell, lesson in zip(cells, lessons):
            card(surface, cell, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
            img_rect = pygame.Rect(cell.x, cell.y, cell.width, int(cell.height * 0.55))
            image = self.app.images.get(lesson.images[0].sha256 if lesson.images else None, img_rect.size, cover=True)
            if image is not None:
                surface.blit(image, img_rect.topleft)
            else:
                pygame.draw.rect(surface, theme.c("primary"), img_rect, border_top_left_radius=theme.s("radius"),
                                 border_top_right_radius=theme.s("radius"))
            text.draw(surface, lesson.title, (cell.x + 28, img_rect.bottom + 24), theme.s("font_h2"), theme.c("text"),
                      bold=True, max_width=cell.width - 56)
            extra = "  ·  有语音讲解" if lesson.audio else ""
            text.draw(surface, f"{lesson.points} 积分{extra}", (cell.x + 28, img_rect.bottom + 90), theme.s("font_small"),
                      theme.c("primary"))
            self.bar.add(Button(cell, lesson.title, lambda l=lesson: self.app.navigate("detail", item=l,
                                                                                      siblings=lessons)))

    def _quizzes(self, surface, rect) -> None:
        theme, text = self.theme, self.text
        quizzes = self.items("quiz")
        if not quizzes:
            self.empty(surface, rect, "暂无测验")
            return
        y = rect.y
        for quiz in quizzes[:5]:
            row = pygame.Rect(rect.x, y, rect.width, 170)
            card(surface, row, theme.c("surface"), theme.s("radius"), border=theme.c("line"))
            text.draw(surface, quiz.title, (row.x + 36, row.y + 30), theme.s("font_h1"), theme.c("text"), bold=True)
            broken = problems(quiz)
            info = "本测验题目有误，暂不可用" if broken else \
                f"共 {len(quiz.questions)} 题 · 每题 {quiz.points_per_question} 积分"
            text.draw(surface, info, (row.x + 36, row.y + 100), theme.s("font_body"),
                      theme.c("wrong") if broken else theme.c("muted"))
            self.button(surface, (row.right - 300, row.y + 40, 260, theme.touch), "开始答题",
                        lambda q=quiz: self.app.navigate("quiz", quiz=q), key=f"quiz:{quiz.id}")
            y += 170 + theme.s("gap")

    def describe(self) -> dict:
        return {"screen": self.name, "tab": self.tab,
                "member": self.state.member.member_no if self.state.member else None}
