"""Who reads members' personal data, through the real app.

The roster (name, number, branch, phone, consent to face check-in, points) is
read by editors (who keep it), auditors and admins only; reviewers and
publishers get 403. Meeting attendance (names, branch, check-in times) is
shown to every signed-in role, never with a phone number. Anonymous callers
get nothing. Writes stay with editors (and deletion with admins). The full
table is in docs/security.md."""

from __future__ import annotations

import pytest

PHONE = "13800138000"
ROLES = ["editor", "reviewer", "publisher", "admin", "auditor"]
ROSTER = {"editor", "admin", "auditor"}


@pytest.fixture
def people(hall):
    editor = hall["editor"]
    assert editor.post("/api/members", json={"id": "p1", "name": "钱学林", "member_no": "00101", "branch_id": "b1",
                                             "phone": PHONE, "consent_face": True}).status_code == 201
    meeting = editor.post("/api/items", json={"data": {
        "kind": "meeting", "title": "支委会", "meeting_type": "支委会", "branch_id": "b1",
        "starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T10:00:00+08:00",
        "expected_members": ["p1"], "check_in_devices": []}})
    assert meeting.status_code == 201, meeting.text
    checkin = editor.post(f"/api/meetings/{meeting.json()['id']}/checkins", json={"member_id": "p1",
                                                                                  "reason": "现场签字"})
    assert checkin.status_code == 201, checkin.text
    return meeting.json()["id"]


@pytest.mark.parametrize("role", ROLES)
def test_roster_with_phone_only_for_editor_auditor_admin(hall, people, role):
    r = hall[role].get("/api/members")
    if role in ROSTER:
        assert r.status_code == 200 and r.json()[0]["phone"] == PHONE
        assert hall[role].get("/api/members", params={"branch_id": "b1"}).status_code == 200
    else:
        assert r.status_code == 403 and PHONE not in r.text
        assert hall[role].get("/api/members", params={"branch_id": "b1"}).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_attendance_has_names_but_never_phone(hall, people, role):
    for path in (f"/api/meetings/{people}/attendance", f"/api/meetings/{people}/checkins",
                 f"/api/meetings/{people}/attendance/export", "/api/reports/points",
                 "/api/reports/attendance?quarter=2026Q4"):
        r = hall[role].get(path)
        assert r.status_code == 200, (role, path, r.text)
        assert PHONE not in r.text, path
    assert "钱学林" in hall[role].get(f"/api/meetings/{people}/attendance").text


@pytest.mark.parametrize("role", ["reviewer", "publisher", "auditor"])
def test_who_cannot_change_members_or_see_face_data(hall, people, role):
    client = hall[role]
    assert client.post("/api/members", json={"id": "p2", "name": "x", "member_no": "00102"}).status_code == 403
    assert client.put("/api/members/p1/pin", json={"pin": "1234"}).status_code == 403
    assert client.delete("/api/members/p1").status_code == 403
    assert client.get("/api/members/p1/face").status_code == 403
    assert client.delete("/api/members/p1/face").status_code == 403


def test_editor_keeps_members_but_only_admin_deletes(hall, people):
    assert hall["editor"].delete("/api/members/p1").status_code == 403
    assert hall["admin"].delete("/api/members/p1").status_code == 204


def test_anonymous_reads_nothing_personal(hall, people):
    for path in ("/api/members", f"/api/meetings/{people}/attendance", f"/api/meetings/{people}/checkins",
                 f"/api/meetings/{people}/attendance/export", "/api/reports/points", "/api/members/p1/face",
                 "/api/reports/attendance?quarter=2026Q4", "/api/audit"):
        r = hall.anon.get(path)
        assert r.status_code == 401, path
        assert "钱学林" not in r.text
    page = hall.anon.get("/members", follow_redirects=False)
    assert page.status_code == 303 and "钱学林" not in page.text


def test_phone_is_not_copied_into_the_audit_log(hall, people):
    export = hall["auditor"].get("/api/audit/export.csv")
    assert export.status_code == 200 and "member_save" in export.text
    assert PHONE not in export.text


@pytest.mark.parametrize("role", ROLES)
def test_roster_page_follows_the_api(hall, people, role):
    """The web page holds the same personal data as GET /api/members: the same
    roles see the roster; the others see the organisation tree and a note."""
    page = hall[role].get("/members")
    assert page.status_code == 200 and "党组织" in page.text
    if role in ROSTER:
        assert "钱学林" in page.text and "00101" in page.text
    else:
        assert "钱学林" not in page.text and "00101" not in page.text and 'id="roster-hidden"' in page.text
