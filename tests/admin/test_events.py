"""What the admin stores from fleet messages (pure database functions), and the reports."""

from __future__ import annotations

from broker import messages as m
from admin import events
from admin.models import Device


def run(hall, handler, msg, **kw):
    with hall.ctx.sessions() as session:
        return events.store(session, handler, msg, **kw)


def test_availability_reported_telemetry_update_the_device(hall):
    run(hall, events.on_availability, m.Availability(site_id="s", device_id="kiosk-a", kind="kiosk", state="online",
                                                     groups=["lobby"]))
    run(hall, events.on_reported, m.ReportedState(site_id="s", device_id="kiosk-a", kind="kiosk", group="lobby",
                                                  applied_version=3, applied_sha256="b" * 64))
    run(hall, events.on_telemetry, m.Telemetry(site_id="s", device_id="kiosk-a", kind="kiosk", fps=59.5,
                                               cpu_percent=2.5, rss_mb=120.0))
    d = hall["auditor"].get("/api/devices/kiosk-a").json()
    assert d["online"] and d["applied_version"] == 3 and d["groups"] == ["lobby"]
    assert d["telemetry"]["fps"] == 59.5
    run(hall, events.on_availability, m.Availability(site_id="s", device_id="kiosk-a", kind="kiosk", state="offline"))
    assert hall["auditor"].get("/api/devices/kiosk-a").json()["online"] is False


def test_proof_of_play_dedupes_batches_and_reports(hall):
    run(hall, events.on_availability, m.Availability(site_id="s", device_id="kiosk-a", kind="kiosk", state="online",
                                                     groups=["lobby"]))
    records = [m.PlayRecord(item_id="news-1", started_at=1_780_000_000 + i * 10, duration_s=10) for i in range(3)]
    batch = m.ProofOfPlay(site_id="s", device_id="kiosk-a", records=records)
    for _ in range(2):
        replies = run(hall, events.on_play, batch, site_id="s")
        assert [type(r).__name__ for r in replies] == ["ProofOfPlayAck"] and replies[0].batch_id == batch.batch_id
    rows = hall["auditor"].get("/api/reports/play").json()["rows"]
    assert len(rows) == 1 and rows[0][1] == "lobby" and rows[0][4] == 3 and rows[0][5] == 30
    csv = hall["auditor"].get("/api/reports/play/export", params={"fmt": "csv"})
    assert csv.text.startswith("\ufeff日期") and "news-1" in csv.text
    xlsx = hall["auditor"].get("/api/reports/play/export", params={"fmt": "xlsx"})
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet.cell(2, 3).value == "news-1" and sheet.cell(2, 5).value == 3


def test_learning_points_need_the_members_pin(hall):
    hall["editor"].post("/api/members", json={"id": "m2", "name": "赵刚", "member_no": "00008"})
    event = m.LearningPoints(site_id="s", device_id="kiosk-a", member_no="00008", points=5, reason="完成测验",
                             pin="2468")
    (no_pin_set,) = run(hall, events.on_points, event, site_id="s")
    assert not no_pin_set.accepted and "尚未设置" in no_pin_set.reason
    assert hall["editor"].put("/api/members/m2/pin", json={"pin": "2468"}).status_code == 204
    (wrong,) = run(hall, events.on_points, event.model_copy(update={"pin": "1111", "event_id": "w"}), site_id="s")
    assert not wrong.accepted and "密码错误" in wrong.reason
    (missing,) = run(hall, events.on_points, event.model_copy(update={"pin": None, "event_id": "n"}), site_id="s")
    assert not missing.accepted
    (ok,) = run(hall, events.on_points, event, site_id="s")
    assert ok.accepted and ok.total == 5
    with hall.ctx.sessions() as session:
        from admin.models import AuditEntry, Member

        stored = session.get(Member, "m2").pin_hash
        assert stored and "2468" not in stored, "only a hash of the PIN is kept"
        assert all("2468" not in (e.detail or "") for e in session.query(AuditEntry))
    assert hall.anon.put("/api/members/m2/pin", json={"pin": "9999"}).status_code in (401, 403)


def test_learning_points_tally_once_per_event(hall):
    hall["editor"].post("/api/members", json={"id": "m1", "name": "李红梅", "member_no": "00007"})
    hall["editor"].put("/api/members/m1/pin", json={"pin": "135790"})
    event = m.LearningPoints(site_id="s", device_id="kiosk-a", member_no="00007", points=5, reason="完成测验",
                             pin="135790")
    for _ in range(3):
        (ack,) = run(hall, events.on_points, event, site_id="s")
        assert ack.accepted and ack.total == 5
    (unknown,) = run(hall, events.on_points, event.model_copy(update={"member_no": "99999", "event_id": "x"}),
                     site_id="s")
    assert unknown.accepted is False
    top = hall["auditor"].get("/api/reports/points").json()["members"]
    assert top[0] == {"member_no": "00007", "name": "李红梅", "branch_id": None, "points": 5}


def test_exhibit_views_rank_most_viewed(hall):
    for exhibit, n in (("ex-a", 3), ("ex-b", 1)):
        for _ in range(n):
            run(hall, events.on_exhibit_view, m.ExhibitView(site_id="s", device_id="hall-1", event="dwell",
                                                           exhibit_id=exhibit, dwell_s=12.0))
    run(hall, events.on_exhibit_view, m.ExhibitView(site_id="s", device_id="hall-1", event="tour_completed"))
    report = hall["auditor"].get("/api/reports/exhibits").json()
    assert [(e["exhibit_id"], e["views"]) for e in report["exhibits"]] == [("ex-a", 3), ("ex-b", 1)]
    assert report["tours_completed"] == 1


def test_checkin_for_unknown_meeting_is_refused(hall):
    (ack,) = run(hall, events.on_checkin, m.CheckIn(site_id="s", device_id="robot-1", meeting_id="nope",
                                                    member_id="m1", member_name="张三"), site_id="s")
    assert ack.accepted is False and ack.reason


def test_member_delete_removes_every_trace(hall):
    hall["editor"].post("/api/members", json={"id": "m9", "name": "王伟", "member_no": "00009", "consent_face": True})
    hall["editor"].put("/api/members/m9/pin", json={"pin": "8642"})
    (ack,) = run(hall, events.on_points, m.LearningPoints(site_id="s", device_id="k", member_no="00009", points=1,
                                                         reason="x", pin="8642"), site_id="s")
    assert ack.accepted, "a points record exists before the delete"
    assert hall["admin"].delete("/api/members/m9").status_code == 204
    with hall.ctx.sessions() as session:
        from sqlalchemy import func, select

        from admin.models import PointsEvent

        assert session.scalar(select(func.count()).select_from(PointsEvent)) == 0
        assert session.get(Device, "m9") is None


def test_a_copy_racing_another_is_acknowledged_not_dropped(hall):
    """Two copies of one proof-of-play batch arrive at once: the loser's insert
    hits the unique key; it must still acknowledge (the row is stored), so the
    device stops re-sending, and the records exist exactly once."""
    from sqlalchemy import func, select

    from admin.models import PlayBatch, PlayRecordRow

    batch = m.ProofOfPlay(site_id="s", device_id="kiosk-r", batch_id="race-1",
                          records=[{"item_id": "n1", "started_at": 1_700_000_000.0, "duration_s": 5.0}])
    calls = []

    def racing(session, msg, **kw):
        calls.append(1)
        if len(calls) == 1:
            # This copy found no batch; the concurrent copy commits before this one inserts.
            with hall.ctx.sessions() as other:
                events.store(other, events.on_play, msg, **kw)
            session.add(PlayBatch(batch_id=msg.batch_id, device_id=msg.device_id))
            return [m.ProofOfPlayAck(site_id="s", device_id=msg.device_id, batch_id=msg.batch_id)]
        return events.on_play(session, msg, **kw)

    replies = run(hall, racing, batch, site_id="s")
    assert len(calls) == 2, "the losing copy runs once more after the unique-key error"
    assert [type(r).__name__ for r in replies] == ["ProofOfPlayAck"] and replies[0].batch_id == "race-1"
    with hall.ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PlayBatch)) == 1
        assert session.scalar(select(func.count()).select_from(PlayRecordRow)) == 1
