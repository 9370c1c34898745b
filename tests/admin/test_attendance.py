"""Manual check-ins and corrections (with reasons, audited) and the attendance
report per branch and quarter."""

from __future__ import annotations

from io import BytesIO

from broker import messages as m
from admin import events
from tests.admin.test_events import run


def meeting(hall, *, title: str, branch: str, day: str, members: list[str]) -> str:
    data = {"kind": "meeting", "title": title, "meeting_type": "支部党员大会", "branch_id": branch,
            "place": "一楼会议室", "starts_at": f"{day}T09:00:00+08:00", "ends_at": f"{day}T10:00:00+08:00",
            "expected_members": members}
    response = hall["editor"].post("/api/items", json={"data": data})
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def test_manual_checkin_and_correction_need_a_reason_and_are_audited(hall):
    for mid, name, no in (("p1", "张三", "001"), ("p2", "李四", "002")):
        hall["editor"].post("/api/members", json={"id": mid, "name": name, "member_no": no, "branch_id": "b1"})
    meeting_id = meeting(hall, title="十二月支部党员大会", branch="b1", day="2026-12-01", members=["p1", "p2"])

    missing_reason = hall["editor"].post(f"/api/meetings/{meeting_id}/checkins", json={"member_id": "p1"})
    assert missing_reason.status_code == 422
    ok = hall["editor"].post(f"/api/meetings/{meeting_id}/checkins",
                             json={"member_id": "p1", "reason": "人脸识别失败，会务人员核实"})
    assert ok.status_code == 201 and ok.json()["method"] == "manual"
    again = hall["editor"].post(f"/api/meetings/{meeting_id}/checkins", json={"member_id": "p1", "reason": "重复"})
    assert again.status_code == 409
    assert hall.anon.post(f"/api/meetings/{meeting_id}/checkins",
                          json={"member_id": "p2", "reason": "匿名"}).status_code in (401, 403)

    # a face check-in for p2 that was wrong, corrected with a reason
    run(hall, events.on_checkin, m.CheckIn(site_id="s", device_id="robot-1", meeting_id=meeting_id,
                                           member_id="p2", member_name="李四", score=0.4), site_id="s")
    assert hall["editor"].delete(f"/api/meetings/{meeting_id}/checkins/p2").status_code == 422
    assert hall["editor"].delete(f"/api/meetings/{meeting_id}/checkins/p2",
                                 params={"reason": "认错人，李四未到会"}).status_code == 204
    present = [c["member_id"] for c in hall["editor"].get(f"/api/meetings/{meeting_id}/checkins").json()]
    assert present == ["p1"]

    log = hall["auditor"].get("/api/audit").json()
    entries = log["entries"] if isinstance(log, dict) else log
    details = {e["action"]: e["detail"] for e in entries}
    assert details["checkin_manual"] == "人脸识别失败，会务人员核实"
    assert "认错人" in details["checkin_correct"]


def test_attendance_report_per_branch_and_quarter_with_exports(hall):
    for mid, no, branch in (("a1", "101", "b1"), ("a2", "102", "b1"), ("c1", "201", "b2")):
        hall["editor"].post("/api/members", json={"id": mid, "name": mid, "member_no": no, "branch_id": branch})
    q4 = meeting(hall, title="十月支委会", branch="b1", day="2026-10-15", members=["a1", "a2"])
    meeting(hall, title="其他支部会议", branch="b2", day="2026-11-02", members=["c1"])
    meeting(hall, title="下季度会议", branch="b1", day="2027-01-10", members=["a1"])
    hall["editor"].post(f"/api/meetings/{q4}/checkins", json={"member_id": "a1", "reason": "补录", "late": True})

    report = hall["auditor"].get("/api/reports/attendance", params={"quarter": "2026Q4", "branch_id": "b1"}).json()
    assert report["meetings"] == 1 and report["expected"] == 2 and report["present"] == 1
    assert report["rate"] == 0.5
    row = report["rows"][0]
    assert row[0] == "十月支委会" and row[7] == 1 and row[8] == 1, "late and manual counted"
    all_branches = hall["auditor"].get("/api/reports/attendance", params={"quarter": "2026Q4"}).json()
    assert all_branches["meetings"] == 2
    assert hall["auditor"].get("/api/reports/attendance", params={"quarter": "2026-4"}).status_code == 422

    csv = hall["auditor"].get("/api/reports/attendance/export", params={"quarter": "2026Q4", "fmt": "csv"})
    assert "十月支委会" in csv.content.decode("utf-8-sig")
    from openpyxl import load_workbook

    xlsx = hall["auditor"].get("/api/reports/attendance/export", params={"quarter": "2026Q4", "fmt": "xlsx"})
    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet.cell(1, 1).value == "会议" and sheet.max_row == 3


def test_face_checkin_of_an_unnamed_member_keeps_the_real_name_in_the_record(hall):
    """The robot only knows 党员同志 for a member without display consent; the
    attendance record takes the name from the admin's member row."""
    from robot.face.bundle import ANONYMOUS_NAME

    hall["editor"].post("/api/members", json={"id": "q1", "name": "赵六", "member_no": "009", "branch_id": "b1",
                                              "consent_display_name": False})
    meeting_id = meeting(hall, title="十二月党小组会", branch="b1", day="2026-12-01", members=["q1"])
    run(hall, events.on_checkin, m.CheckIn(site_id="s", device_id="robot-1", meeting_id=meeting_id,
                                           member_id="q1", member_name=ANONYMOUS_NAME, score=0.3), site_id="s")
    (row,) = hall["editor"].get(f"/api/meetings/{meeting_id}/checkins").json()
    assert row["member_id"] == "q1" and row["member_name"] == "赵六"
