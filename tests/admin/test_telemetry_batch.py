"""Telemetry is coalesced per device and stored once a second: the newest
sample wins, over a real broker into the real database, with far fewer
commits than messages."""

from __future__ import annotations

import time

from sqlalchemy import event

from admin.telemetry_batch import LatestTelemetry
from broker import messages as m


def sample(device: str, fps: float, ts: float) -> m.Telemetry:
    return m.Telemetry(site_id="s", device_id=device, kind="kiosk", fps=fps, cpu_percent=1.0, rss_mb=100.0, ts=ts)


def test_newest_sample_per_device_wins_and_drain_empties():
    pending = LatestTelemetry()
    pending.add(sample("a", 10, ts=100.0))
    pending.add(sample("a", 30, ts=300.0))
    pending.add(sample("a", 20, ts=200.0))  # arrived late: older than what is held
    pending.add(sample("b", 50, ts=100.0))
    batch = {t.device_id: t.fps for t in pending.drain()}
    assert batch == {"a": 30, "b": 50}
    assert pending.drain() == [] and len(pending) == 0


def test_bridge_stores_the_newest_telemetry_in_few_commits(live_admin, mqtt_broker):
    from broker.client import HallClient

    commits = []
    event.listen(live_admin.ctx.sessions, "after_commit", lambda session: commits.append(1))
    settings = mqtt_broker.settings(site_id="test-site", device_id="tele-sender")
    sender = HallClient(settings, client_id="tele-sender", kind="kiosk")
    import asyncio

    async def send() -> None:
        await sender.start()
        await sender.wait_connected(10)
        now = time.time()
        for n in range(200):
            sender.publish(sample(f"kiosk-{n % 10}", float(n), ts=now + n / 1000))
        await asyncio.sleep(0.5)
        await sender.stop()

    asyncio.run(send())
    admin = live_admin.client("admin")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        devices = {d["id"]: d for d in admin.get("/api/devices", params={"limit": 100}).json()["devices"]}
        if all(devices.get(f"kiosk-{k}", {}).get("telemetry", {}).get("fps") == 190 + k for k in range(10)):
            break
        time.sleep(0.2)
    assert {k: devices[f"kiosk-{k}"]["telemetry"]["fps"] for k in range(10)} == {k: 190.0 + k for k in range(10)}
    # 200 messages, 10 devices: a handful of batches, never a commit per message.
    assert 1 <= len(commits) <= 20, len(commits)
