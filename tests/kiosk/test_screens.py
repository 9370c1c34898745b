"""Every screen reached by injected touch events on a real (dummy-driver)
pygame display, with the screen's state asserted after each gesture."""

from __future__ import annotations

import pytest

from broker.messages import AttendanceBoard, CheckIn, LearningPoints
from kiosk import events, meetings

from kiosk.script import swipe, tap
from kiosk.script import wait as advance

SECTIONS = {"党情速递": "news", "通知公告": "notices", "学习教育": "education", "三会一课": "meetings",
            "便民服务": "services", "组织地图": "map", "荣誉库": "honours", "史料库": "archive", "数据统计": "stats"}


@pytest.mark.parametrize("label,screen", SECTIONS.items())
def test_every_home_tile_opens_its_screen_and_back_returns(kiosk, label, screen):
    tap(kiosk, label)
    assert kiosk.current_name == screen
    tap(kiosk, "back")
    assert kiosk.current_name == "home"


def test_news_carousel_advances_by_itself_and_by_swipe(kiosk):
    tap(kiosk, "党情速递")
    screen = kiosk.current
    first = screen.describe()["current"]
    advance(kiosk, kiosk.theme.t("carousel_s") + kiosk.theme.t("transition_s") + 0.2)
    assert screen.describe()["current"] != first
    assert screen.transition is None  # the slide finished
    swipe(kiosk, "right")
    assert screen.describe()["current"] == first


def test_news_detail_swipes_between_items_and_pages(kiosk):
    tap(kiosk, "党情速递")
    tap(kiosk, "各支部扎实开展主题党日活动")  # the long one: several pages
    detail = kiosk.current
    assert kiosk.current_name == "detail" and detail.describe()["item"] == "news-1"
    assert detail.pages > 1
    swipe(kiosk, "up")
    assert detail.page == 1
    tap(kiosk, "上一页")
    assert detail.page == 0
    swipe(kiosk, "left")
    assert detail.describe()["item"] == "news-2"


def test_notices_urgent_first_expired_hidden_with_validity(kiosk):
    tap(kiosk, "通知公告")
    order = kiosk.current.describe()["order"]
    assert order[0] == "notice-urgent"
    assert "notice-old" not in order
    tap(kiosk, "关于开展安全隐患排查的紧急通知")
    assert kiosk.current.describe()["item"] == "notice-urgent"
    from kiosk.screens.detail import meta_of

    assert meta_of(kiosk.current.item).startswith("有效期")


def test_lesson_points_need_sign_in_then_are_sent(kiosk):
    tap(kiosk, "学习教育")
    tap(kiosk, "党章学习：党员的八项义务")
    assert kiosk.current_name == "detail"
    tap(kiosk, "narration")
    assert kiosk.current.sound is not None or kiosk.current.message == "讲解音频暂不可用"
    tap(kiosk, "学完领积分")
    assert kiosk.current_name == "signin"
    for digit in "100001":
        tap(kiosk, f"key:{digit}")
    tap(kiosk, "field:pin")
    for digit in "123":
        tap(kiosk, f"key:{digit}")
    tap(kiosk, "login")
    assert "密码" in kiosk.current.message  # PIN too short: refused
    tap(kiosk, "key:4")
    tap(kiosk, "login")
    assert kiosk.current_name == "detail"
    sent = [m for m in kiosk.sent if isinstance(m, LearningPoints)]
    assert len(sent) == 1
    assert (sent[0].member_no, sent[0].pin, sent[0].points, sent[0].item_id) == ("100001", "1234", 5, "lesson-1")
    assert "积分" in kiosk.current.message


def test_quiz_single_and_multiple_choice_with_scoring(kiosk):
    from kiosk.state import Member

    kiosk.state.member = Member("100002", "5678")
    tap(kiosk, "学习教育")
    tap(kiosk, "知识测验")
    tap(kiosk, "quiz:quiz-1")
    quiz = kiosk.current
    assert kiosk.current_name == "quiz"
    tap(kiosk, "提交答案")
    assert quiz.message == "请先选择答案"
    tap(kiosk, "option:0")
    tap(kiosk, "提交答案")
    assert quiz.revealed
    tap(kiosk, "下一题")
    for option in (0, 1, 3):
        tap(kiosk, f"option:{option}")
    tap(kiosk, "option:3")  # untick
    tap(kiosk, "option:2")
    assert quiz.describe()["chosen"] == [0, 1, 2]
    tap(kiosk, "提交答案")
    tap(kiosk, "下一题")
    tap(kiosk, "option:0")  # wrong: the answer is one year
    tap(kiosk, "提交答案")
    tap(kiosk, "查看成绩")
    assert quiz.describe()["result"] == (2, 4)
    points = [m for m in kiosk.sent if isinstance(m, LearningPoints)]
    assert points and points[-1].points == 4 and points[-1].member_no == "100002"


def test_quiz_without_correct_option_is_refused_with_a_message(kiosk):
    from content.model import Quiz, QuizQuestion

    broken = QuizQuestion.model_construct(text="没有答案的题", options=["甲", "乙"], correct=[], multiple=False,
                                          explanation="")
    quiz = Quiz.model_construct(id="quiz-bad", title="有问题的测验", questions=[broken], points_per_question=2,
                                kind="quiz", important=False, tags=[], version_sha256=None)
    kiosk.navigate("quiz", quiz=quiz)
    kiosk.draw()
    assert "没有正确答案" in kiosk.current.describe()["error"]
    assert kiosk.find("option:0") is None


def test_ranking_overall_and_per_branch(kiosk):
    tap(kiosk, "学习教育")
    tap(kiosk, "积分排名")
    board = kiosk.current.describe()
    assert board["top"][0] == (1, "张伟", 120)
    tap(kiosk, "研发中心党支部")
    ranked = kiosk.current.describe()
    assert ranked["branch"] == "branch-3"
    assert all(name in ("李娜", "黄敏") for _, name, _ in ranked["top"])


def test_meetings_today_and_live_board_fed_by_attendance_events(kiosk):
    tap(kiosk, "三会一课")
    assert "mtg-now" in kiosk.current.describe()["meetings"]
    tap(kiosk, "本周安排")
    week = kiosk.current.describe()["meetings"]
    first, last = meetings.week_bounds(kiosk.state.now().date())
    manifest = kiosk.state.manifest
    assert "mtg-now" in week and "mtg-past" not in week
    assert all(first <= manifest.item(mid).starts_at.date() <= last for mid in week)
    tap(kiosk, "board")
    assert kiosk.current_name == "checkin_board"
    assert kiosk.current.describe()["present"] == []
    board = AttendanceBoard(site_id="s", group="lobby", meeting_id="mtg-now", meeting_title="党员大会", expected=12,
                            present=[{"member_id": "m001", "member_name": "张伟"}])
    events.post(events.ATTENDANCE, board)
    events.post(events.ATTENDANCE, CheckIn(site_id="s", device_id="robot-1", meeting_id="mtg-now",
                                           member_id="m002", member_name="王芳"))
    advance(kiosk, 0.1)
    assert kiosk.current.describe()["present"] == ["张伟", "王芳"]


def test_dues_calculator_by_keypad(kiosk):
    tap(kiosk, "便民服务")
    tap(kiosk, "党费计算")
    dues = kiosk.current
    for key in "5000":
        tap(kiosk, f"key:{key}")
    tap(kiosk, "calculate")
    assert dues.describe()["monthly"] == "50.00"
    tap(kiosk, "key:删除")
    tap(kiosk, "calculate")
    assert dues.describe()["monthly"] == "2.50"  # 500 yuan: the 0.5 % bracket
    tap(kiosk, "cat:retired")
    assert dues.describe()["monthly"] is None
    tap(kiosk, "cat:student")
    assert dues.describe()["monthly"] == "0.20"


def test_transfer_guide_contacts_and_faq(kiosk):
    tap(kiosk, "便民服务")
    tap(kiosk, "组织关系转接")
    assert kiosk.current.describe()["section"] == "transfer"
    tap(kiosk, "back")
    tap(kiosk, "联系我们")
    assert kiosk.current.describe()["section"] == "contacts"
    tap(kiosk, "back")
    tap(kiosk, "常见问题")
    tap(kiosk, "党费按什么基数计算？")
    assert kiosk.current.describe()["open_faq"] == "faq-1"


def test_map_pins_and_branch_card(kiosk, caplog):
    tap(kiosk, "组织地图")
    pins = kiosk.current.describe()["pins"]
    assert "branch-bad" not in pins and len(pins) == 5
    tap(kiosk, "pin:branch-3")
    assert kiosk.current.describe()["selected"] == "branch-3"


def test_honours_and_archive_by_category_and_year(kiosk):
    tap(kiosk, "荣誉库")
    tap(kiosk, "cat:个人荣誉")
    assert set(kiosk.current.describe()["shown"]) == {"honour-1", "honour-3"}
    tap(kiosk, "year:2025年")
    assert kiosk.current.describe()["shown"] == ["honour-1"]
    tap(kiosk, "home")
    tap(kiosk, "史料库")
    tap(kiosk, "year:1958年")
    assert set(kiosk.current.describe()["shown"]) == {"archive-0", "archive-1"}
    tap(kiosk, "第一次党员大会合影")
    assert kiosk.current.describe()["item"] == "archive-1"


def test_statistics(kiosk):
    tap(kiosk, "数据统计")
    assert kiosk.current.describe() == {"screen": "stats", "branches": 6, "members": 159}


def test_attract_loop_after_idle_and_touch_goes_home(kiosk):
    from kiosk.state import Member

    kiosk.state.member = Member("100001", "1234")
    tap(kiosk, "党情速递")
    advance(kiosk, 61)
    assert kiosk.current_name == "attract"
    assert kiosk.state.member is None  # signed out when the member walked away
    shown = kiosk.current.describe()
    assert shown["count"] == 5 and shown["item"] == "news-1"
    advance(kiosk, 8.5)  # the first entry lasts 8 s
    assert kiosk.current.describe()["item"] == "notice-urgent"
    swipe(kiosk, "left")
    assert kiosk.current_name == "home"
    # proof of play was recorded for what the loop showed
    ids = [r.item_id for _, records in [(None, kiosk.playlog.pending_records())] for r in records]
    assert "news-1" in ids and "notice-urgent" in ids


def test_robot_subtitles_overlay_appears_and_fades(kiosk):
    from broker.messages import DialogueTurn

    events.post(events.DIALOGUE, DialogueTurn(site_id="s", robot_id="robot-1", session_id="a", role="visitor",
                                              text="三会一课是什么？"))
    events.post(events.DIALOGUE, DialogueTurn(site_id="s", robot_id="robot-1", session_id="a", role="robot",
                                              text="三会一课是支部党员大会、支委会、党小组会和党课。"))
    advance(kiosk, 0.1)
    assert [t.role for t in kiosk.state.dialogue] == ["visitor", "robot"]
    advance(kiosk, kiosk.theme.t("subtitle_s") + 1)
    assert kiosk.state.dialogue == []


def test_portrait_layout_draws_every_screen(portrait_kiosk):
    app = portrait_kiosk
    assert app.size == (1080, 1920)
    for label, screen in SECTIONS.items():
        tap(app, label)
        assert app.current_name == screen
        tap(app, "home")


def test_every_button_is_a_finger_sized_target(kiosk):
    for name in ("home", "news", "education", "dues", "signin", "map", "honours", "meetings", "notices"):
        kiosk.navigate(name)
        kiosk.draw()
        small = [b.label for b in kiosk.chrome.items + kiosk.current.bar.items
                 if b.rect.height < 80 or b.rect.width < 80]
        assert not small, f"{name}: {small}"


@pytest.mark.parametrize("portrait", [False, True])
def test_no_two_buttons_overlap(app_factory, portrait):
    """Overlapping targets would make a tap land on the wrong thing."""
    from kiosk.state import Member

    app = app_factory(portrait=portrait)
    screens = [("home", {}), ("news", {}), ("notices", {}), ("education", {}), ("education", {"tab": "quizzes"}),
               ("meetings", {}), ("services", {}), ("dues", {}), ("signin", {}), ("map", {}), ("honours", {}),
               ("archive", {}), ("ranking", {}), ("guide", {"section": "faq"})]
    for member in (None, Member("100001", "1234")):
        app.state.member = member
        for name, params in screens:
            app.navigate(name, **params)
            app.draw()
            buttons = app.chrome.items + app.current.bar.items
            for i, a in enumerate(buttons):
                for b in buttons[i + 1:]:
                    assert not a.rect.colliderect(b.rect), f"{name}: {a.label!r} overlaps {b.label!r}"
