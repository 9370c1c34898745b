"""Faults at fleet level: the broker killed mid-push, the media server killed
mid-download, a device away for a long time. Every endpoint converges to the
latest version when things return; none ever reports a version it has not
fully verified and switched to."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from admin.media import MediaServer
from admin.publish import Publisher
from broker.bench_push import _manifest, _start_broker
from broker.client import HallClient
from broker.messages import ReportedState
from content.signing import ManifestSigner
from content.store import MediaStore
from tests.conftest import BrokerInfo, free_port

DEVICES = 12


class Fleet:
    def __init__(self, tmp, broker_kind: str) -> None:
        self.tmp = tmp
        self.kind = broker_kind
        self.port = free_port()
        self.broker = _start_broker(broker_kind, self.port, tmp)
        self.store = MediaStore(tmp / "store")
        self.signer = ManifestSigner.generate()
        self.media_port = free_port()
        self.server = MediaServer(self.store, port=self.media_port).start()
        self.worker = self._start_worker()

    def _start_worker(self) -> subprocess.Popen:
        config = {"port": self.port, "offset": 0, "count": DEVICES, "data_dir": str(self.tmp / "fleet"),
                  "public_key": self.signer.public_key_b64, "admin_url": f"http://127.0.0.1:{self.media_port}"}
        return subprocess.Popen([sys.executable, "-m", "broker.bench_push", json.dumps(config)],
                                env={**os.environ, "HALL_ENV_FILE": "/nonexistent"},
                                stdout=subprocess.DEVNULL, stderr=open(self.tmp / "worker.log", "ab"))

    def kill_broker(self) -> None:
        self.broker.kill()
        self.broker.wait(10)

    def restart_broker(self) -> None:
        self.broker = _start_broker(self.kind, self.port, self.tmp)

    def close(self) -> None:
        self.worker.send_signal(signal.SIGTERM)
        try:
            self.worker.wait(20)
        except subprocess.TimeoutExpired:
            self.worker.kill()
        self.server.stop()
        self.broker.kill()
        self.broker.wait(10)


@pytest.fixture(params=["embedded", "mosquitto"])
def fleet(request, tmp_path):
    f = Fleet(tmp_path, request.param)
    yield f
    f.close()


async def converge(reports: dict, version: int, timeout: float = 45.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(reports) == DEVICES and all(r.applied_version == version and r.status == "applied"
                                           for r in reports.values()):
            return True
        await asyncio.sleep(0.1)
    return False


def test_broker_killed_mid_push_and_media_server_killed_mid_download(fleet):
    async def scenario():
        info = BrokerInfo(fleet.kind, "127.0.0.1", fleet.port)
        admin = HallClient(info.settings(site_id="bench"), client_id="admin", kind="admin", availability=False,
                           reconnect_max=2)
        reports: dict[str, ReportedState] = {}
        applied_versions: set[int] = set()

        async def on_report(msg: ReportedState):
            reports[msg.device_id] = msg
            if msg.status == "applied" and msg.applied_version is not None:
                applied_versions.add(msg.applied_version)

        admin.subscribe(ReportedState, on_report)
        await admin.start()
        assert await admin.wait_connected(10)
        publisher = Publisher(site_id="bench", public_url=f"http://127.0.0.1:{fleet.media_port}", store=fleet.store,
                              signer=fleet.signer, state_file=fleet.tmp / "publish.json", client=admin)
        assert publisher.publish(_manifest(fleet.store, 1, 1)).version == 1
        assert await converge(reports, 1), {k: (v.applied_version, v.status) for k, v in reports.items()}

        # 1. the broker dies right after the publish; on its return the
        #    publisher re-posts the retained desired state (amqtt kept it in memory only)
        v2 = publisher.publish(_manifest(fleet.store, 2, 1)).version
        fleet.kill_broker()
        await asyncio.sleep(1.0)
        fleet.restart_broker()
        assert await converge(reports, v2), {k: (v.applied_version, v.status) for k, v in reports.items()}

        # 2. the media server dies while devices download; they keep v2, report
        #    the failure, retry with backoff and converge once it is back
        fleet.server.stop()
        v3 = publisher.publish(_manifest(fleet.store, 3, 2)).version
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(r.status == "failed" for r in reports.values()):
            await asyncio.sleep(0.1)
        failed = [r for r in reports.values() if r.status == "failed"]
        assert failed, "devices reported that the download failed"
        assert all(r.applied_version == v2 for r in failed), "the last good manifest stayed in force"
        fleet.server = MediaServer(fleet.store, port=fleet.media_port).start()
        assert await converge(reports, v3, timeout=90), {k: (v.applied_version, v.status) for k, v in reports.items()}
        assert applied_versions <= {1, 2, 3}, "no device reported a version that was never published"
        await admin.stop()

    asyncio.run(scenario())


def test_device_away_for_a_long_time_catches_up_on_return(tmp_path):
    """A device that missed several publishes gets only the latest on return."""
    f = Fleet(tmp_path, "mosquitto")
    f.worker.send_signal(signal.SIGTERM)
    f.worker.wait(20)

    async def scenario():
        info = BrokerInfo("mosquitto", "127.0.0.1", f.port)
        admin = HallClient(info.settings(site_id="bench"), client_id="admin", kind="admin", availability=False)
        reports: dict[str, ReportedState] = {}

        async def on_report(msg):
            reports[msg.device_id] = msg

        admin.subscribe(ReportedState, on_report)
        await admin.start()
        assert await admin.wait_connected(10)
        publisher = Publisher(site_id="bench", public_url=f"http://127.0.0.1:{f.media_port}", store=f.store,
                              signer=f.signer, state_file=f.tmp / "publish.json", client=admin)
        for tag in range(1, 6):  # a week of publishes while the fleet is off
            latest = publisher.publish(_manifest(f.store, tag, 1)).version
        f.worker = f._start_worker()
        assert await converge(reports, latest)
        await admin.stop()

    try:
        asyncio.run(scenario())
    finally:
        f.close()
