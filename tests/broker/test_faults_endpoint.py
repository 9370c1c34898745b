"""Faults on the endpoint itself, end to end (real Mosquitto, the admin's real
publisher and media route, real endpoints): the disk filling up during an
apply, a cached file damaged on disk, the clock jumping, a week offline.

Each test is bounded in time; the disk-full test mounts a small tmpfs (root),
so that the kernel itself answers ENOSPC."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from admin.media import MediaServer
from admin.publish import Publisher
from broker.bench_push import _manifest, _start_broker
from broker.client import HallClient
from broker.messages import AlertAck, EmergencyAlert, ReportedState
from content.endpoint import Endpoint
from content.signing import ManifestSigner
from content.store import MediaStore
from tests.conftest import BrokerInfo, free_port

DEVICE = "sim-00000"  # the bench worker's first device id


class Site:
    """Broker, media route, publisher and a report collector."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.broker = _start_broker("mosquitto", self.port, tmp)
        self.store = MediaStore(tmp / "store")
        self.signer = ManifestSigner.generate()
        self.server = MediaServer(self.store).start()
        self.info = BrokerInfo("mosquitto", "127.0.0.1", self.port)
        self.reports: list[ReportedState] = []
        self.acks: list[tuple[str, str]] = []
        self.admin: HallClient | None = None
        self.publisher: Publisher | None = None

    async def start(self) -> None:
        self.admin = HallClient(self.info.settings(site_id="bench"), client_id="admin", kind="admin",
                                availability=False)

        async def on_report(msg: ReportedState) -> None:
            self.reports.append(msg)

        async def on_ack(msg: AlertAck) -> None:
            self.acks.append((msg.alert_id, msg.state))

        self.admin.subscribe(ReportedState, on_report)
        self.admin.subscribe(AlertAck, on_ack)
        await self.admin.start()
        assert await self.admin.wait_connected(10)
        self.publisher = Publisher(site_id="bench", public_url=self.server.url, store=self.store,
                                   signer=self.signer, state_file=self.tmp / "publish.json", client=self.admin)

    def publish(self, tag: int, media: int) -> int:
        assert self.publisher is not None
        return self.publisher.publish(_manifest(self.store, tag, media)).version

    def last(self, device: str = DEVICE) -> ReportedState | None:
        mine = [r for r in self.reports if r.device_id == device]
        return mine[-1] if mine else None

    async def until(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(0.1)
        return bool(predicate())

    def endpoint_settings(self, data_dir: Path):
        return self.info.settings(site_id="bench", data_dir=data_dir, public_key=self.signer.public_key_b64,
                                  admin_url=self.server.url)

    def spawn_worker(self, data_dir: Path) -> subprocess.Popen:
        """One real endpoint in its own process (the bench worker with one device)."""
        config = {"port": self.port, "offset": 0, "count": 1, "data_dir": str(data_dir),
                  "public_key": self.signer.public_key_b64, "admin_url": self.server.url}
        return subprocess.Popen([sys.executable, "-m", "broker.bench_push", json.dumps(config)],
                                env={**os.environ, "HALL_ENV_FILE": "/nonexistent"},
                                stdout=subprocess.DEVNULL, stderr=open(self.tmp / "worker.log", "ab"))

    async def close(self) -> None:
        if self.admin is not None:
            await self.admin.stop()
        self.server.stop()
        self.broker.kill()
        self.broker.wait(10)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _cache(data_dir: Path) -> Path:
    return data_dir / "devices" / DEVICE / "cache"


@pytest.fixture
def small_disk(tmp_path):
    """A 400 KiB tmpfs: the kernel says ENOSPC, no simulation."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k,mode=0755", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_disk_full_during_apply_keeps_the_old_manifest_reports_failed_and_converges_later(tmp_path, small_disk):
    site = Site(tmp_path)

    async def scenario():
        await site.start()
        v1 = site.publish(1, 1)  # one 50 kB picture: fits
        worker = site.spawn_worker(small_disk)
        try:
            assert site.endpoint_settings(small_disk).device_dir(DEVICE) == small_disk / "devices" / DEVICE
            assert await site.until(lambda: (r := site.last()) and r.status == "applied" and r.applied_version == v1)
            v2 = site.publish(2, 12)  # twelve new 50 kB pictures: 600 kB on a 400 kB disk
            assert await site.until(lambda: (r := site.last()) and r.status == "failed")
            failed = site.last()
            assert failed.applied_version == v1, "the previous manifest stayed in force"
            assert "磁盘" in failed.error or "disk" in failed.error.lower(), failed.error
            pointer = json.loads((_cache(small_disk) / "current.json").read_text())
            assert pointer["current"]["version"] == v1
            assert not list((_cache(small_disk) / "tmp").iterdir()), "no half-written file left behind"
            # space returns: the endpoint's retry (backoff 1, 2, 5, 10 s) gets there by itself
            subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
            assert await site.until(lambda: (r := site.last()) and r.status == "applied" and r.applied_version == v2,
                                    timeout=40), site.last()
            applied = [r.applied_version for r in site.reports if r.status == "applied"]
            assert set(applied) <= {v1, v2}
        finally:
            _stop(worker)
        await site.close()

    asyncio.run(scenario())


def test_cached_file_damaged_on_disk_is_detected_at_start_and_fetched_again(tmp_path):
    site = Site(tmp_path)
    data_dir = tmp_path / "device"

    async def scenario():
        await site.start()
        v1 = site.publish(1, 2)
        worker = site.spawn_worker(data_dir)
        assert await site.until(lambda: (r := site.last()) and r.status == "applied" and r.applied_version == v1)
        _stop(worker)
        media = sorted((_cache(data_dir) / "media").glob("*/*"))
        assert len(media) == 2
        damaged = media[0]
        data = bytearray(damaged.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped byte, same size: only a re-hash can tell
        damaged.write_bytes(bytes(data))
        site.reports.clear()
        worker = site.spawn_worker(data_dir)
        try:
            assert await site.until(lambda: (r := site.last()) and r.status == "applied" and r.applied_version == v1)
            assert hashlib.sha256(damaged.read_bytes()).hexdigest() == damaged.name, "fetched again, intact"
            log = (tmp_path / "worker.log").read_text(errors="replace")
            assert "damaged on disk" in log
        finally:
            _stop(worker)
        await site.close()

    asyncio.run(scenario())


class ShiftedClock:
    """The device's wall clock, which an operator or NTP may set at any time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_clock_jumps_do_not_end_an_alert_early_or_keep_it_late(tmp_path):
    site = Site(tmp_path)
    clock = ShiftedClock()

    async def scenario():
        await site.start()
        endpoint = Endpoint(site.endpoint_settings(tmp_path / "device"), kind="kiosk", device_id="kiosk-1",
                            groups=["lobby"], wall_clock=clock)
        await endpoint.start()
        assert await endpoint.client.wait_connected(10)
        for jump in (+7200.0, -7200.0):
            clock.offset = 0.0  # right when the alert arrives (a wrong clock then cannot be helped)
            alert = EmergencyAlert(site_id="bench", group="lobby", title="紧急通知：请有序疏散",
                                   expires_at=time.time() + 4.0)
            site.admin.publish(alert)
            assert await site.until(lambda: (alert.alert_id, "shown") in site.acks, timeout=10)
            shown_at = time.monotonic()
            clock.offset = jump
            await asyncio.sleep(1.0)
            assert endpoint.alert is not None and endpoint.alert.alert_id == alert.alert_id, \
                f"a {jump:+.0f} s jump must not end the takeover early"
            # due after 4 s (+1 s expiry tick); 7,200 s late is what a wall-clock check would give
            assert await site.until(lambda: (alert.alert_id, "cleared") in site.acks, timeout=15)
            assert time.monotonic() - shown_at < 15, f"a {jump:+.0f} s jump must not keep the takeover on"
            assert endpoint.alert is None
        await endpoint.stop()
        await site.close()

    asyncio.run(scenario())


def test_a_week_offline_converges_to_the_latest_and_shows_no_expired_alert(tmp_path):
    site = Site(tmp_path)
    clock = ShiftedClock()
    data_dir = tmp_path / "device"

    async def scenario():
        await site.start()
        v1 = site.publish(1, 1)

        def endpoint() -> Endpoint:
            return Endpoint(site.endpoint_settings(data_dir), kind="kiosk", device_id="kiosk-1", groups=["bench"],
                            wall_clock=clock)

        first = endpoint()
        await first.start()
        assert await site.until(lambda: (r := site.last("kiosk-1")) and r.applied_version == v1)
        alert = EmergencyAlert(site_id="bench", group="bench", title="今日闭馆", expires_at=time.time() + 3600)
        site.admin.publish(alert)
        assert await site.until(lambda: (alert.alert_id, "shown") in site.acks, timeout=10)
        await first.stop()

        for tag in range(2, 8):  # a week of publishing while the device is off
            latest = site.publish(tag, 1)
        clock.offset = 7 * 24 * 3600.0  # it comes back a week later (its own clock says so)
        back = endpoint()
        await back.start()
        assert back.manifest is not None and back.manifest.version == v1, "plays the last good one at once"
        assert back.alert is None, "the stored takeover expired during the week"
        assert await site.until(lambda: (r := site.last("kiosk-1")) and r.status == "applied"
                                and r.applied_version == latest, timeout=30)
        await asyncio.sleep(0.5)
        assert back.alert is None, "the retained alert is long expired for this device"
        assert back.manifest.version == latest
        await back.stop()
        await site.close()

    asyncio.run(scenario())
