"""The cached device and content lists never show data older than the last
committed write (in this admin, in a second admin on the same SQLite file, in
another process), expire by the clock for the online flag, answer 304 to a
matching ETag, and never keep a revoked or disabled user signed in."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from admin import events
from admin.listcache import Built, ResponseCache, changes_for
from admin.models import Device, utcnow
from admin.routes.devices import STALE_AFTER, device_page
from broker import messages as m
from tests.admin.conftest import news


def add_device(hall, device_id="kiosk-c1", groups=("lobby",)):
    r = hall["admin"].post("/api/devices", json={"id": device_id, "kind": "kiosk", "groups": list(groups)})
    assert r.status_code == 201, r.text
    return device_id


def devices(client, **params):
    r = client.get("/api/devices", params=params)
    assert r.status_code == 200, r.text
    return {d["id"]: d for d in r.json()["devices"]}


@pytest.fixture
def second_admin(hall):
    """A second admin (own engine, pool, caches) on the same SQLite file, as a
    second worker process would be."""
    from admin.app import build_context, create_app

    ctx = build_context(hall.ctx.settings)
    app = create_app(ctx=ctx)
    clients = {}
    for role, client in hall.clients.items():
        other = TestClient(app)
        other.headers["Authorization"] = client.headers["Authorization"]
        clients[role] = other
    yield clients
    ctx.engine.dispose()


def test_item_edit_create_and_retire_show_at_once(hall):
    editor = hall["editor"]
    item = editor.post("/api/items", json={"data": news("旧标题")}).json()
    first = editor.get("/api/items").json()
    assert [i["title"] for i in first["items"]] == ["旧标题"]
    assert editor.get("/api/items").json() == first  # served again (from the cache)
    r = editor.put(f"/api/items/{item['id']}", json={"data": news("新标题"), "base_version": 1})
    assert r.status_code == 200, r.text
    assert [i["title"] for i in editor.get("/api/items").json()["items"]] == ["新标题"]
    editor.post("/api/items", json={"data": news("第二条")})
    assert editor.get("/api/items").json()["total"] == 2
    editor.post(f"/api/items/{item['id']}/submit")
    listed = {i["id"]: i for i in editor.get("/api/items").json()["items"]}
    assert listed[item["id"]]["status"] == "submitted"


def test_device_report_telemetry_and_deletion_show_at_once(hall):
    device_id = add_device(hall)
    assert devices(hall["auditor"])[device_id]["status"] is None
    # The MQTT ingestion path: admin.events in a session of the admin's sessionmaker.
    with hall.ctx.sessions() as session:
        events.store(session, events.on_reported, m.ReportedState(
            site_id="s", device_id=device_id, kind="kiosk", group="lobby", applied_version=7, status="failed",
            error="下载失败"))
    shown = devices(hall["auditor"])[device_id]
    assert (shown["applied_version"], shown["status"], shown["error"]) == (7, "failed", "下载失败")
    with hall.ctx.sessions() as session:
        events.store(session, events.on_telemetry, m.Telemetry(site_id="s", device_id=device_id, kind="kiosk",
                                                                fps=42.5, cpu_percent=1.0, rss_mb=99.0))
    shown = devices(hall["auditor"])[device_id]
    assert shown["online"] is True and shown["telemetry"]["fps"] == 42.5
    with hall.ctx.sessions() as session:
        session.delete(session.get(Device, device_id))
        session.commit()
    assert device_id not in devices(hall["auditor"])
    assert hall["auditor"].get("/api/devices").json()["total"] == 0


def test_bulk_statements_invalidate_too(hall):
    device_id = add_device(hall)
    assert devices(hall["auditor"])[device_id]["name"] == device_id
    with hall.ctx.sessions() as session:
        session.execute(update(Device).where(Device.id == device_id).values(name="大厅一号"))
        session.commit()
    assert devices(hall["auditor"])[device_id]["name"] == "大厅一号"
    with hall.ctx.sessions() as session:
        session.execute(delete(Device))
        session.commit()
    assert devices(hall["auditor"]) == {}


def test_session_events_bump_only_the_written_topic(hall):
    changes = changes_for(hall.ctx.engine)
    device_id = add_device(hall)
    before = {topic: changes.stamp(topic)[0] for topic in ("devices", "items", "auth")}
    with hall.ctx.sessions() as session:
        session.get(Device, device_id).name = "改名"
        session.flush()
        assert changes.stamp("devices")[0] == before["devices"]  # not before the commit
        session.commit()
    after = {topic: changes.stamp(topic)[0] for topic in ("devices", "items", "auth")}
    assert after["devices"] > before["devices"]
    assert after["items"] == before["items"] and after["auth"] == before["auth"]
    with hall.ctx.sessions() as session:
        session.execute(update(Device).values(name="批量"))
        session.rollback()
    assert changes.stamp("devices")[0] == after["devices"]  # rolled back: nothing to bump


def test_a_second_admin_on_the_same_file_sees_the_first_ones_writes(hall, second_admin):
    device_id = add_device(hall)
    item = hall["editor"].post("/api/items", json={"data": news("甲")}).json()
    # Both admins have the lists cached now.
    assert devices(second_admin["auditor"])[device_id]["status"] is None
    assert second_admin["auditor"].get("/api/items").json()["items"][0]["title"] == "甲"
    assert devices(hall["auditor"])[device_id]["status"] is None
    with hall.ctx.sessions() as session:
        events.store(session, events.on_reported, m.ReportedState(site_id="s", device_id=device_id, kind="kiosk",
                                                                  applied_version=2))
    assert devices(second_admin["auditor"])[device_id]["status"] == "applied"
    r = second_admin["editor"].put(f"/api/items/{item['id']}", json={"data": news("乙")})
    assert r.status_code == 200, r.text
    assert hall["auditor"].get("/api/items").json()["items"][0]["title"] == "乙"


def test_a_write_by_another_process_is_seen(hall):
    device_id = add_device(hall)
    assert devices(hall["auditor"])[device_id]["name"] == device_id
    path = hall.ctx.engine.url.database
    script = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
              "c.execute(\"UPDATE devices SET name = '外部进程' WHERE id = ?\", (sys.argv[2],)); c.commit()")
    subprocess.run([sys.executable, "-c", script, path, device_id], check=True, timeout=60)
    assert devices(hall["auditor"])[device_id]["name"] == "外部进程"


def test_etag_and_304(hall):
    add_device(hall)
    auditor = hall["auditor"]
    first = auditor.get("/api/devices")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = auditor.get("/api/devices", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert auditor.get("/api/devices", headers={"If-None-Match": '"other"'}).status_code == 200
    assert auditor.get("/api/devices", params={"limit": 1}, headers={"If-None-Match": etag}).status_code in (200, 304)
    add_device(hall, "kiosk-c2")
    changed = auditor.get("/api/devices", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag and changed.json()["total"] == 2
    items = auditor.get("/api/items")
    assert auditor.get("/api/items", headers={"If-None-Match": items.headers["etag"]}).status_code == 304
    # Nobody gets a 304 (or anything) without signing in.
    assert hall.anon.get("/api/items", headers={"If-None-Match": items.headers["etag"]}).status_code == 401


def test_query_parameters_are_separate_entries(hall):
    add_device(hall, "kiosk-c1", groups=("lobby",))
    add_device(hall, "kiosk-c2", groups=("hall",))
    auditor = hall["auditor"]
    assert set(devices(auditor)) == {"kiosk-c1", "kiosk-c2"}
    assert set(devices(auditor, group="hall")) == {"kiosk-c2"}
    assert set(devices(auditor, limit=1)) == {"kiosk-c1"}
    assert set(devices(auditor, limit=1, offset=1)) == {"kiosk-c2"}
    assert auditor.get("/api/devices", params={"limit": 0}).status_code == 422


@pytest.mark.parametrize("group", [None, "lobby"])
def test_device_list_expires_when_the_first_online_device_turns_stale(hall, group):
    now = utcnow().replace(microsecond=0)
    with hall.ctx.sessions() as session:
        session.add_all([
            Device(id="k-old", kind="kiosk", groups=["lobby"], online=True, last_seen=now - dt.timedelta(minutes=2)),
            Device(id="k-new", kind="kiosk", groups=["lobby"], online=True, last_seen=now - dt.timedelta(seconds=5)),
            Device(id="k-off", kind="kiosk", groups=["lobby"], online=False, last_seen=now - dt.timedelta(minutes=2,
                                                                                                       seconds=30)),
            Device(id="k-gone", kind="kiosk", groups=["lobby"], online=True, last_seen=now - dt.timedelta(hours=1)),
        ])
        session.commit()
    built = device_page(hall.ctx, kind=None, group=group, limit=50, offset=0)
    assert built.valid_until == now - dt.timedelta(minutes=2) + STALE_AFTER
    with hall.ctx.sessions() as session:
        session.execute(update(Device).values(online=False))
        session.commit()
    assert device_page(hall.ctx, kind=None, group=group, limit=50, offset=0).valid_until is None


def test_an_entry_past_its_deadline_is_rebuilt(hall):
    cache = ResponseCache(changes_for(hall.ctx.engine))
    builds = []

    def build(deadline):
        builds.append(deadline)
        return Built(b"[]", valid_until=deadline)

    async def twice(deadline):
        await cache.get("devices", ("k", deadline), lambda: build(deadline))
        await cache.get("devices", ("k", deadline), lambda: build(deadline))

    asyncio.run(twice(utcnow() + dt.timedelta(hours=1)))
    assert len(builds) == 1
    asyncio.run(twice(utcnow() - dt.timedelta(seconds=1)))
    assert len(builds) == 3


def _user_id(hall, name):
    return next(u["id"] for u in hall["admin"].get("/api/users").json() if u["name"] == name)


def test_revoked_token_is_refused_at_once(hall, second_admin):
    auditor = hall["auditor"]
    assert auditor.get("/api/devices").status_code == 200
    assert auditor.get("/api/items").status_code == 200
    assert auditor.post("/api/auth/logout").status_code == 204
    for path in ("/api/devices", "/api/items"):
        r = auditor.get(path)
        assert r.status_code == 401 and r.json()["detail"] == "令牌无效或已过期"
    # Revoked in one admin, refused by the other one on the same file too.
    editor = second_admin["editor"]
    assert editor.get("/api/devices").status_code == 200
    assert hall["editor"].post("/api/auth/logout").status_code == 204
    assert editor.get("/api/devices").status_code == 401


def test_disabled_user_is_refused_at_once(hall, second_admin):
    assert hall["auditor"].get("/api/items").status_code == 200
    assert second_admin["auditor"].get("/api/items").status_code == 200
    r = hall["admin"].patch(f"/api/users/{_user_id(hall, 'shenji')}", json={"disabled": True})
    assert r.status_code == 200, r.text
    assert hall["auditor"].get("/api/items").status_code == 401
    assert second_admin["auditor"].get("/api/items").status_code == 401


def test_unknown_token_and_cookie_sessions(hall):
    bad = hall.anon.get("/api/devices", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.json()["detail"] == "令牌无效或已过期"
    assert hall.anon.get("/api/devices").json()["detail"] == "请先登录"
    # A browser session (cookie) reads the lists too, and loses them at logout.
    browser = TestClient(hall.app)
    r = browser.post("/login", data={"name": "shenji", "password": "correct-horse-battery"},
                     follow_redirects=False)
    assert r.status_code in (302, 303), r.text
    assert browser.get("/api/devices").status_code == 200
    with hall.ctx.sessions() as session:
        from admin.models import AuthToken

        session.execute(delete(AuthToken).where(AuthToken.kind == "session"))
        session.commit()
    assert browser.get("/api/devices").status_code == 401


def test_the_data_version_reader_is_closed_with_the_engine(hall):
    add_device(hall)
    changes = changes_for(hall.ctx.engine)
    assert changes.cross_process
    changes.stamp("devices")
    hall.ctx.engine.dispose()
    assert changes._conn is None
    first = changes.stamp("devices")  # reopens on demand
    with sqlite3.connect(hall.ctx.engine.url.database) as conn:
        conn.execute("UPDATE devices SET name = 'x'")
    assert changes.stamp("devices") != first


def test_without_a_data_version_entries_live_one_second_at_most():
    from sqlalchemy import create_engine

    from admin.listcache import MAX_AGE_S, SQLITE_MAX_AGE_S

    engine = create_engine("sqlite://")  # in memory: no file another process could write
    try:
        assert ResponseCache(changes_for(engine)).max_age_s == MAX_AGE_S == 1.0
    finally:
        engine.dispose()
    assert SQLITE_MAX_AGE_S > MAX_AGE_S


def test_a_session_bound_to_a_connection_bumps_its_engine(hall):
    from sqlalchemy.orm import Session

    changes = changes_for(hall.ctx.engine)
    device_id = add_device(hall)
    before = changes.stamp("devices")[0]
    with hall.ctx.engine.connect() as conn, Session(bind=conn) as session:
        session.get(Device, device_id).name = "连接会话"
        session.commit()
    assert changes.stamp("devices")[0] > before
