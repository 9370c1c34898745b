"""End to end: a manifest published to a group is fetched, verified, applied
and reported by two endpoint processes, over a real broker and real HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time

import pytest
from PIL import Image

from admin.media import MediaServer
from admin.publish import Publisher
from broker.client import HallClient
from broker.messages import DesiredState, ReportedState
from content.model import Manifest, MediaRef, News
from content.signing import ManifestSigner
from content.store import MediaStore


def png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "PNG")
    return buf.getvalue()


def news_manifest(store: MediaStore, title: str, color) -> Manifest:
    data = png(color)
    ref = MediaRef(sha256=store.put_bytes(data), mime="image/png", size=len(data))
    return Manifest(site_id="test-site", group="lobby", version=0, created_at=0,
                    items=[News(id="n1", title=title, body="正文", images=[ref])])


@pytest.fixture
def site(tmp_path, mqtt_broker):
    store = MediaStore(tmp_path / "admin-media")
    signer = ManifestSigner.generate()
    server = MediaServer(store).start()
    yield dict(store=store, signer=signer, server=server, broker=mqtt_broker, tmp=tmp_path)
    server.stop()


def spawn_endpoint(site, device_id: str) -> subprocess.Popen:
    b = site["broker"]
    env = {**os.environ, "HALL_MQTT_HOST": b.host, "HALL_MQTT_PORT": str(b.port), "HALL_SITE_ID": "test-site",
           "HALL_DATA_DIR": str(site["tmp"] / "devices-root"), "HALL_PUBLIC_KEY": site["signer"].public_key_b64,
           "HALL_GROUPS": '["lobby"]', "HALL_ADMIN_URL": site["server"].url, "HALL_ENV_FILE": "/nonexistent"}
    log = open(site["tmp"] / f"{device_id}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "broker.cli", "endpoint", "--kind", "kiosk",
                             "--device-id", device_id], env=env, stdout=log, stderr=subprocess.STDOUT)


def test_publish_is_applied_and_reported_by_two_endpoint_processes(site):
    procs = [spawn_endpoint(site, f"kiosk-{i}") for i in (1, 2)]

    async def scenario():
        admin = HallClient(site["broker"].settings(), client_id="admin", kind="admin", availability=False)
        reports: dict[str, ReportedState] = {}

        async def on_report(msg: ReportedState):
            reports[msg.device_id] = msg

        admin.subscribe(ReportedState, on_report)
        await admin.start()
        assert await admin.wait_connected(5)
        publisher = Publisher(site_id="test-site", public_url=site["server"].url, store=site["store"],
                              signer=site["signer"], state_file=site["tmp"] / "publish.json", client=admin)

        async def all_at(version: int, timeout: float = 30.0) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if all(reports.get(f"kiosk-{i}") and reports[f"kiosk-{i}"].applied_version == version
                       and reports[f"kiosk-{i}"].status == "applied" for i in (1, 2)):
                    return True
                await asyncio.sleep(0.1)
            return False

        first = publisher.publish(news_manifest(site["store"], "党情速递一", (200, 16, 46)))
        assert first.changed and first.delivered and first.version == 1
        assert await all_at(1), {k: v.model_dump() for k, v in reports.items()}

        # unchanged content: a no-op, same version
        again = publisher.publish(news_manifest(site["store"], "党情速递一", (200, 16, 46)))
        assert not again.changed and again.version == 1

        second = publisher.publish(news_manifest(site["store"], "党情速递二", (250, 200, 0)))
        assert second.version == 2
        assert await all_at(2)

        # a desired state signed by another key is refused; v2 stays in force
        foreign = ManifestSigner.generate()
        bad_manifest = news_manifest(site["store"], "伪造内容", (0, 0, 0))
        from content.signing import encode_manifest

        data = encode_manifest(bad_manifest.model_copy(update={"version": 3, "created_at": time.time()}))
        sha = site["store"].put_bytes(data)
        admin.publish(DesiredState(site_id="test-site", group="lobby", version=3, manifest_sha256=sha,
                                   manifest_url=f"{site['server'].url}/media/{sha}",
                                   signature=foreign.sign(data), published_at=time.time()))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
                reports[f"kiosk-{i}"].status == "failed" for i in (1, 2)):
            await asyncio.sleep(0.1)
        for i in (1, 2):
            assert reports[f"kiosk-{i}"].status == "failed"
            assert reports[f"kiosk-{i}"].applied_version == 2, "the last good manifest stays in force"
        await admin.stop()

    try:
        asyncio.run(scenario())
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            assert proc.wait(15) == 0 or proc.returncode in (-15,), "endpoint stopped cleanly on SIGTERM"


def test_endpoint_restart_plays_last_good_manifest_without_network(site):
    """Kill the endpoint; restart it with the broker unreachable: it still has v1."""
    async def publish_once():
        admin = HallClient(site["broker"].settings(), client_id="admin", kind="admin", availability=False)
        reports = {}

        async def on_report(msg):
            reports[msg.device_id] = msg

        admin.subscribe(ReportedState, on_report)
        await admin.start()
        await admin.wait_connected(5)
        Publisher(site_id="test-site", public_url=site["server"].url, store=site["store"], signer=site["signer"],
                  state_file=site["tmp"] / "p.json", client=admin).publish(
            news_manifest(site["store"], "离线也能播放", (10, 120, 60)))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (reports.get("kiosk-9") and reports["kiosk-9"].applied_version == 1):
            await asyncio.sleep(0.1)
        await admin.stop()
        return reports

    proc = spawn_endpoint(site, "kiosk-9")
    try:
        reports = asyncio.run(publish_once())
        assert reports["kiosk-9"].applied_version == 1
    finally:
        proc.kill()
        proc.wait(10)

    from broker.settings import HallSettings
    from content.cache import MediaCache
    from content.signing import load_public_key

    settings = HallSettings(_env_file=None, data_dir=site["tmp"] / "devices-root")
    cache = MediaCache(settings.device_dir("kiosk-9") / "cache")
    manifest = cache.load_current(load_public_key(site["signer"].public_key_b64))
    assert manifest is not None and manifest.version == 1
    assert manifest.items[0].title == "离线也能播放"
    ref = manifest.items[0].images[0]
    assert cache.media_path(ref.sha256) is not None
