import datetime as dt
import logging
import math
from zoneinfo import ZoneInfo

import pytest

from content.model import Manifest, Meeting, Organisation, Quiz, QuizQuestion
from kiosk import meetings, quiz, ranking, stats
from kiosk.mapproj import Bounds, place_pins, project

TZ = ZoneInfo("Asia/Shanghai")
B = Bounds(lat_min=30.0, lat_max=31.0, lon_min=120.0, lon_max=122.0)


def test_projection_corners_and_centre():
    assert project(31.0, 120.0, B, (201, 101)) == (0, 0)
    assert project(30.0, 122.0, B, (201, 101)) == (200, 100)
    assert project(30.5, 121.0, B, (201, 101)) == (100, 50)


@pytest.mark.parametrize("lat,lon", [(None, 121), (30.5, None), (math.nan, 121), (29.9, 121), (30.5, 123),
                                     ("x", 121), (math.inf, 121)])
def test_bad_positions_are_left_out(lat, lon):
    assert project(lat, lon, B, (100, 100)) is None


def test_place_pins_logs_what_it_leaves_out(caplog):
    good = Organisation(id="b1", title="第一支部", lat=30.5, lon=121.0)
    bad = Organisation(id="b2", title="第二支部", lat=45.0, lon=121.0)
    with caplog.at_level(logging.WARNING):
        pins = place_pins([good, bad], B, (100, 100))
    assert set(pins) == {"b1"}
    assert "b2" in caplog.text


def test_inverted_bounds_place_nothing():
    assert place_pins([Organisation(id="b1", title="x", lat=30.5, lon=121)], Bounds(31, 30, 120, 122), (9, 9)) == {}


def _quiz(*questions, points=2):
    return Quiz(id="q", title="测验", questions=list(questions), points_per_question=points)


Q1 = QuizQuestion(text="党的最高领导机关是？", options=["全国代表大会", "中央委员会", "政治局"], correct=[0])
Q2 = QuizQuestion(text="三会一课包括？", options=["支部党员大会", "支委会", "党小组会", "运动会"], correct=[0, 1, 2],
                  multiple=True, explanation="运动会不属于")


def test_quiz_scoring_single_and_multiple():
    result = quiz.score(_quiz(Q1, Q2, points=5), [{0}, {0, 1, 2}])
    assert (result.correct, result.points, result.percent) == (2, 10, 100)
    partial = quiz.score(_quiz(Q1, Q2), [{1}, {0, 1}])
    assert partial.per_question == [False, False] and partial.points == 0
    assert quiz.score(_quiz(Q1, Q2), [{0}]).correct == 1  # unanswered counts as wrong


def test_toggle_single_replaces_multiple_flips():
    assert quiz.toggle(Q1, {1}, 2) == {2}
    assert quiz.toggle(Q2, {0, 1}, 1) == {0}
    assert quiz.toggle(Q2, {0}, 9) == {0}


def test_quiz_with_no_correct_option_is_refused():
    broken = QuizQuestion.model_construct(text="?", options=["a", "b"], correct=[], multiple=False, explanation="")
    with pytest.raises(quiz.QuizUnusable) as info:
        quiz.score(_quiz(Q1).model_copy(update={"questions": [broken]}), [{0}])
    assert "没有正确答案" in str(info.value)


def test_single_choice_with_two_answers_is_refused():
    bad = QuizQuestion(text="?", options=["a", "b"], correct=[0, 1])
    assert quiz.problems(_quiz(bad))


def test_ranking_ties_and_branches():
    rows = [
        {"member_no": "003", "name": "王五", "branch_id": "b1", "points": 30},
        {"member_no": "001", "name": "张三", "branch_id": "b1", "points": 50},
        {"member_no": "002", "name": "李四", "branch_id": "b2", "points": 30},
        {"member_no": "004", "name": "赵六", "branch_id": "b2", "points": 10},
        {"member_no": "001", "name": "张三", "branch_id": "b1", "points": 5},
        {"bad": "row"},
    ]
    board = ranking.rank(rows)
    assert [(e.rank, e.member_no, e.points) for e in board] == [(1, "001", 55), (2, "002", 30), (2, "003", 30),
                                                                (4, "004", 10)]
    assert [e.member_no for e in ranking.rank(rows, branch_id="b2")] == ["002", "004"]
    assert len(ranking.rank(rows, limit=2)) == 2
    assert ranking.branch_totals(rows) == {"b1": 85, "b2": 40}


def _meeting(mid, branch, start, hours=2, kind="支委会"):
    return Meeting(id=mid, title=f"会议{mid}", meeting_type=kind, branch_id=branch, starts_at=start,
                   ends_at=start + dt.timedelta(hours=hours))


def test_meetings_today_week_and_in_progress():
    now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=TZ)  # a Wednesday
    ms = [
        _meeting("a", "b1", dt.datetime(2026, 11, 25, 9, 0)),
        _meeting("b", "b1", dt.datetime(2026, 11, 27, 14, 0)),
        _meeting("c", "b2", dt.datetime(2026, 11, 23, 8, 0)),  # Monday this week
        _meeting("d", "b2", dt.datetime(2026, 12, 1, 8, 0)),   # next week
    ]
    assert [m.id for m in meetings.today(ms, now, TZ)] == ["a"]
    assert [m.id for m in meetings.this_week(ms, now, TZ)] == ["c", "a", "b"]
    assert [m.id for m in meetings.in_progress(ms, now, TZ)] == ["a"]
    assert meetings.next_meeting(ms, "b2", now, TZ).id == "d"
    assert "周三" in meetings.when_text(ms[0], TZ)


def test_statistics_aggregation():
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=TZ)
    manifest = Manifest(
        site_id="s", group="g", version=1, created_at=0,
        items=[
            Organisation(id="b1", title="一支部", member_count=20),
            Organisation(id="b2", title="二支部", member_count=15),
            _meeting("m1", "b1", dt.datetime(2026, 10, 5, 9), kind="党课"),
            _meeting("m2", "b1", dt.datetime(2026, 9, 5, 9)),      # last quarter
            _meeting("m3", "b2", dt.datetime(2026, 12, 5, 9)),     # not held yet
        ],
        stats={"attendance": [{"expected": 20, "present": 18}, {"expected": 10, "present": 9}],
               "points": [{"member_no": "1", "branch_id": "b1", "points": 40},
                          {"member_no": "2", "branch_id": "b2", "points": 10}]},
    )
    result = stats.aggregate(manifest, now, TZ)
    assert (result.branches, result.members, result.meetings_this_quarter) == (2, 35, 1)
    assert result.meetings_by_type == {"党课": 1}
    assert result.attendance_rate == pytest.approx(0.9)
    assert result.learning_points == 50
    assert result.points_by_branch == {"一支部": 40, "二支部": 10}


def test_points_outbox_keeps_until_ack(tmp_path):
    from broker.messages import LearningPoints
    from kiosk.outbox import PointsOutbox

    box = PointsOutbox(tmp_path)
    msg = LearningPoints(site_id="s", device_id="k", member_no="100001", pin="1234", points=5, reason="课程")
    box.add(msg)
    (tmp_path / "junk.json").write_text("{not json")
    again = PointsOutbox(tmp_path)  # a restart
    assert [m.event_id for m in again.pending()] == [msg.event_id]
    assert again.ack(msg.event_id) and again.pending() == []


def test_playlog_batches_survive_restart_until_acked(tmp_path):
    from broker.messages import PlayRecord
    from kiosk.playlog import PlayLog

    log = PlayLog(tmp_path, batch_max=2)
    for i in range(3):
        log.record(PlayRecord(item_id=f"n{i}", started_at=1.0 + i, duration_s=2.0))
    ids = log.seal()
    assert len(ids) == 2
    reopened = PlayLog(tmp_path)
    batches = reopened.batches()
    assert sorted(b for b, _ in batches) == sorted(ids)
    assert sum(len(records) for _, records in batches) == 3
    assert reopened.ack(ids[0]) and not reopened.ack(ids[0])
    assert len(reopened.batches()) == 1
