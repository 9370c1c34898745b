"""The two-level review rules, through the API, and their audit trail."""

from __future__ import annotations

import pytest

from admin import review


def make(hall, news, **extra) -> str:
    r = hall["editor"].post("/api/items", json={"data": news(**extra)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_ordinary_item_needs_one_level(hall, news):
    item = make(hall, news)
    assert hall["editor"].post(f"/api/items/{item}/submit").json()["status"] == "submitted"
    assert hall["reviewer"].post(f"/api/items/{item}/approve", json={}).json()["status"] == "approved"
    assert hall["publisher"].post(f"/api/items/{item}/publish").status_code == 200
    assert hall["editor"].get(f"/api/items/{item}").json()["status"] == "published"


def test_important_item_needs_level_two_from_another_person(hall, news):
    item = make(hall, news, important=True)
    hall["editor"].post(f"/api/items/{item}/submit")
    assert hall["publisher"].post(f"/api/items/{item}/approve", json={}).json()["status"] == "approved_l1"
    # Not publishable yet, and the level-1 approver cannot also give level 2.
    assert hall["publisher"].post(f"/api/items/{item}/publish").status_code == 409
    again = hall["publisher"].post(f"/api/items/{item}/approve", json={})
    assert again.status_code == 403 and "不同的人" in again.json()["detail"]
    # A branch reviewer cannot give level 2 at all.
    assert hall["reviewer"].post(f"/api/items/{item}/approve", json={}).status_code == 403
    assert hall["publisher2"].post(f"/api/items/{item}/approve", json={}).json()["status"] == "approved"


def test_nobody_approves_their_own_item(hall, news):
    r = hall["admin"].post("/api/items", json={"data": news()})
    item = r.json()["id"]
    hall["admin"].post(f"/api/items/{item}/submit")
    refused = hall["admin"].post(f"/api/items/{item}/approve", json={})
    assert refused.status_code == 403 and "自己" in refused.json()["detail"]


def test_editor_cannot_approve_or_publish(hall, news):
    item = make(hall, news)
    hall["editor"].post(f"/api/items/{item}/submit")
    assert hall["editor2"].post(f"/api/items/{item}/approve", json={}).status_code == 403
    hall["reviewer"].post(f"/api/items/{item}/approve", json={})
    assert hall["editor2"].post(f"/api/items/{item}/publish").status_code == 403


def test_reject_needs_comment_and_returns_to_draft(hall, news):
    item = make(hall, news)
    hall["editor"].post(f"/api/items/{item}/submit")
    assert hall["reviewer"].post(f"/api/items/{item}/reject", json={"comment": "  "}).status_code == 422
    r = hall["reviewer"].post(f"/api/items/{item}/reject", json={"comment": "标题有误，请修改"})
    assert r.status_code == 200 and r.json()["status"] == "draft"
    assert r.json()["head"]["approvals"][-1]["comment"] == "标题有误，请修改"
    # Back in draft: it can be edited in place and submitted again.
    edited = hall["editor"].put(f"/api/items/{item}", json={"data": news("改正后的标题"), "base_version": 1}).json()
    assert edited["head"]["number"] == 1
    assert hall["editor"].post(f"/api/items/{item}/submit").json()["status"] == "submitted"


def test_edit_after_approval_reopens_review_and_keeps_live_version(hall, news):
    item = make(hall, news)
    hall["editor"].post(f"/api/items/{item}/submit")
    hall["reviewer"].post(f"/api/items/{item}/approve", json={})
    published = hall["publisher"].post(f"/api/items/{item}/publish").json()
    assert published["item"]["live_version"] == 1
    edited = hall["editor"].put(f"/api/items/{item}", json={"data": news("修订稿"), "base_version": 1}).json()
    assert edited["head"]["number"] == 2 and edited["status"] == "draft"
    # Screens keep the approved version 1 until version 2 is approved and published.
    assert edited["live"]["number"] == 1 and edited["live"]["data"]["title"] == "党支部开展主题党日活动"
    assert hall["publisher"].post(f"/api/items/{item}/publish").status_code == 409
    hall["editor"].post(f"/api/items/{item}/submit")
    hall["reviewer"].post(f"/api/items/{item}/approve", json={})
    assert hall["publisher"].post(f"/api/items/{item}/publish").json()["item"]["live_version"] == 2
    versions = hall["editor"].get(f"/api/items/{item}").json()["versions"]
    assert [v["status"] for v in versions] == ["published", "superseded"]


def test_every_transition_is_audited_with_the_version_hash(hall, news):
    item = make(hall, news, important=True)
    hall["editor"].post(f"/api/items/{item}/submit")
    hall["reviewer"].post(f"/api/items/{item}/reject", json={"comment": "再改改"})
    hall["editor"].post(f"/api/items/{item}/submit")
    hall["reviewer"].post(f"/api/items/{item}/approve", json={"comment": "一级同意"})
    hall["publisher"].post(f"/api/items/{item}/approve", json={"comment": "二级同意"})
    hall["publisher"].post(f"/api/items/{item}/publish")
    sha = hall["editor"].get(f"/api/items/{item}").json()["head"]["sha256"]

    log = hall["auditor"].get("/api/audit", params={"target": item}).json()
    actions = [e["action"] for e in reversed(log)]
    assert actions == ["create", "submit", "reject", "submit", "approve_l1", "approve_l2", "publish"]
    assert all(e["version_sha256"] == sha for e in log)
    assert [e["user_name"] for e in reversed(log)][-3:] == ["shenhe", "fabu", "fabu"]

    only_rejects = hall["auditor"].get("/api/audit", params={"action": "reject"}).json()
    assert [e["detail"] for e in only_rejects] == ["再改改"]
    csv = hall["auditor"].get("/api/audit/export.csv", params={"target": item})
    assert csv.status_code == 200 and csv.text.count("\n") == 8 and "approve_l2" in csv.text
    # Only auditors and admins read the log.
    assert hall["editor"].get("/api/audit").status_code == 403


def test_audit_log_is_append_only_in_the_database(hall):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    with hall.ctx.engine.connect() as conn:
        conn.execute(text("INSERT INTO audit_log (at, user_name, action, target, detail) "
                          "VALUES (CURRENT_TIMESTAMP, 'x', 'test', '', '')"))
        conn.commit()
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("UPDATE audit_log SET user_name = 'forged'"))
        conn.rollback()
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("DELETE FROM audit_log"))


# -- the pure state machine ------------------------------------------------------------

EDITOR, L1, L2, L2B = (review.Actor(1, "editor"), review.Actor(2, "reviewer"), review.Actor(3, "publisher"),
                       review.Actor(4, "publisher"))


def test_state_machine_paths():
    s = review.submit(review.DRAFT, EDITOR)
    s, level = review.approve(s, L1, author_id=1, needs_level2=True, approvals=[])
    assert (s, level) == (review.APPROVED_L1, 1)
    with pytest.raises(review.ReviewError):
        review.approve(s, L2, author_id=1, needs_level2=True, approvals=[review.PastApproval(1, 3)])
    s, level = review.approve(s, L2B, author_id=1, needs_level2=True, approvals=[review.PastApproval(1, 2)])
    assert (s, level) == (review.APPROVED, 2)
    assert review.publish(s, L2) == review.PUBLISHED
    for status in (review.DRAFT, review.APPROVED, review.PUBLISHED):
        with pytest.raises(review.ReviewError):
            review.approve(status, L2, author_id=1, needs_level2=False, approvals=[])
    assert review.edit_starts_new_version(review.APPROVED) and not review.edit_starts_new_version(review.DRAFT)
