"""The admin on a real broker: publish reaches a real endpoint, which reports
it applied; alerts are acknowledged and cancelled; check-ins are stored exactly
once; commands get replies; screenshots upload."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from broker import messages as m


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@pytest.fixture
def endpoint(live_admin, tmp_path, mqtt_broker):
    from content.endpoint import Endpoint, EndpointThread

    settings = mqtt_broker.settings(site_id="test-site", data_dir=tmp_path / "kiosk-data",
                                    admin_url=live_admin.url, public_key=live_admin.ctx.signer.public_key_b64,
                                    device_id="kiosk-t1", groups=["lobby"])
    ep = Endpoint(settings, kind="kiosk", telemetry_interval=0.5)
    runner = EndpointThread(ep)
    runner.start()
    try:
        yield ep
    finally:
        runner.stop()


def test_published_item_is_applied_and_reported(live_admin, endpoint, news):
    editor, reviewer, publisher = (live_admin.client(r) for r in ("editor", "reviewer", "publisher"))
    item = editor.post("/api/items", json={"data": news("新闻上屏测试", important=True)}).json()
    assert editor.post(f"/api/items/{item['id']}/submit").status_code == 200
    assert reviewer.post(f"/api/items/{item['id']}/approve", json={"comment": "同意"}).status_code == 200
    assert publisher.post(f"/api/items/{item['id']}/approve", json={}).status_code == 200
    result = publisher.post(f"/api/items/{item['id']}/publish").json()
    lobby = next(g for g in result["groups"] if g["group"] == "lobby")
    assert lobby["changed"] and lobby["delivered"]

    wait_for(lambda: endpoint.manifest is not None and endpoint.manifest.item(item["id"]) is not None)
    applied = endpoint.manifest.item(item["id"])
    assert applied.title == "新闻上屏测试"
    assert applied.version_sha256 == editor.get(f"/api/items/{item['id']}").json()["live"]["sha256"]

    device = wait_for(lambda: (d := publisher.get("/api/devices/kiosk-t1")).status_code == 200
                      and d.json()["in_sync"] and d.json())
    assert device["online"] and device["applied_version"] == lobby["version"]
    # The device page links what is on the screen to the approved version.
    page = wait_for(lambda: (p := publisher.get("/devices/kiosk-t1")).status_code == 200 and p.text)
    assert "新闻上屏测试" in page and f"/items/{item['id']}?version=1" in page

    # Republishing the unchanged group is a no-op.
    again = publisher.post("/api/groups/lobby/publish").json()
    assert again["changed"] is False and again["version"] == lobby["version"]


def test_alert_is_acknowledged_then_cancelled(live_admin, endpoint):
    editor, reviewer, publisher = (live_admin.client(r) for r in ("editor", "reviewer", "publisher"))
    wait_for(lambda: publisher.get("/api/devices/kiosk-t1").status_code == 200)
    alert = editor.post("/api/alerts", json={"title": "紧急疏散演练", "body": "请按指示有序撤离",
                                             "groups": ["lobby"], "expires_in_minutes": 30}).json()
    assert alert["status"] == "submitted"
    # Level 1 alone does not send an alert.
    assert reviewer.post(f"/api/alerts/{alert['id']}/approve", json={}).json()["status"] == "approved_l1"
    assert endpoint.alert is None
    sent = publisher.post(f"/api/alerts/{alert['id']}/approve", json={}).json()
    assert sent["status"] == "sent" and sent["delivered"] is True

    wait_for(lambda: endpoint.alert is not None and endpoint.alert.alert_id == alert["id"])
    acked = wait_for(lambda: (a := publisher.get(f"/api/alerts/{alert['id']}").json())["acks"] and a)
    assert acked["not_acked"] == []
    assert [a["device_id"] for a in acked["acks"]] == ["kiosk-t1"]

    cancelled = publisher.post(f"/api/alerts/{alert['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    wait_for(lambda: endpoint.alert is None)


def test_checkin_is_stored_exactly_once(live_admin, mqtt_broker, news):
    from broker.client import HallClient

    editor = live_admin.client("editor")
    member = editor.post("/api/members", json={"id": "m1", "name": "张建华", "member_no": "00001",
                                               "consent_face": True}).json()
    meeting = editor.post("/api/items", json={"data": {
        "kind": "meeting", "title": "十二月支部党员大会", "meeting_type": "支部党员大会", "branch_id": "b1",
        "starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T10:00:00+08:00",
        "expected_members": ["m1", "m2"], "check_in_devices": ["robot-t1"]}}).json()

    async def scenario() -> list[m.CheckInAck]:
        acks: list[m.CheckInAck] = []

        async def on_ack(ack: m.CheckInAck) -> None:
            acks.append(ack)

        client = HallClient(mqtt_broker.settings(site_id="test-site"), client_id="robot-t1", kind="robot")
        client.subscribe(m.CheckInAck, on_ack, device_id="robot-t1")
        await client.start()
        assert await client.wait_connected(10)
        checkin = m.CheckIn(site_id="test-site", device_id="robot-t1", meeting_id=meeting["id"],
                            member_id=member["id"], member_name=member["name"], method="face", score=0.31)
        for _ in range(3):  # the device re-sends until it sees the ack
            client.publish(checkin)
        deadline = time.monotonic() + 15
        while len(acks) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await client.stop()
        return acks

    acks = asyncio.run(scenario())
    assert len(acks) == 3 and all(a.accepted for a in acks)
    report = editor.get(f"/api/meetings/{meeting['id']}/attendance").json()
    assert report["expected"] == 2 and report["present"] == 1
    assert len(editor.get(f"/api/meetings/{meeting['id']}/checkins").json()) == 1
    xlsx = editor.get(f"/api/meetings/{meeting['id']}/attendance/export", params={"fmt": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_screenshot_command_and_upload(live_admin, endpoint, png_bytes):
    admin = live_admin.client("admin")
    provisioned = admin.post("/api/devices", json={"id": "kiosk-t2", "kind": "kiosk", "groups": ["lobby"]}).json()
    password = provisioned["config"]["HALL_MQTT_PASSWORD"]
    import httpx

    auth = "Basic " + base64.b64encode(f"kiosk-t2:{password}".encode()).decode()
    bad = httpx.post(f"{live_admin.url}/api/devices/kiosk-t2/screenshot", content=png_bytes(),
                     headers={"Authorization": "Basic " + base64.b64encode(b"kiosk-t2:wrong").decode()})
    assert bad.status_code == 401
    up = httpx.post(f"{live_admin.url}/api/devices/kiosk-t2/screenshot", content=png_bytes(),
                    headers={"Authorization": auth})
    assert up.status_code == 201, up.text
    assert admin.get("/api/devices/kiosk-t2").json()["screenshot_url"] == up.json()["url"]
    wrong_type = httpx.post(f"{live_admin.url}/api/devices/kiosk-t2/screenshot", content=b"GIF89a....",
                            headers={"Authorization": auth})
    assert wrong_type.status_code == 415

    # A command to a live endpoint gets its reply stored.
    wait_for(lambda: admin.get("/api/devices/kiosk-t1").json()["online"])
    cmd = admin.post("/api/devices/kiosk-t1/commands", json={"command": "ping"}).json()
    assert cmd["sent"] is True
    replied = wait_for(lambda: next((c for c in admin.get("/api/devices/kiosk-t1/commands").json()
                                     if c["request_id"] == cmd["request_id"] and c["ok"] is not None), None))
    assert replied["ok"] is True and "pong" in replied["result"]
