"""No check-in, acknowledgement or proof-of-play record is lost or doubled when
the broker is SIGKILLed and the admin is SIGKILLed and restarted mid-stream.

Real Mosquitto, the real admin process (`hall admin serve`, SQLite), the
robot's real check-in outbox and agent delivery, the kiosk's real play log and
link. The test only makes records and breaks things; counting happens in the
admin's database at the end.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time

from broker.bench_push import _start_broker
from broker.client import HallClient
from broker.messages import Availability, CheckIn, PlayRecord
from tests.conftest import BrokerInfo, free_port, wait_port

N_CHECKINS = 30
N_PLAYS = 30
MEETING = "meeting-faults"


def _prepare_admin(data_dir) -> None:
    from admin.app import build_context
    from admin.models import Item
    from tests.admin.conftest import admin_settings

    ctx = build_context(admin_settings(data_dir.parent, data_dir=data_dir))
    with ctx.sessions() as session:
        session.add(Item(id=MEETING, kind="meeting", title="支部党员大会"))
        session.commit()


class Admin:
    def __init__(self, data_dir, mqtt_port: int, log) -> None:
        self.data_dir, self.mqtt_port, self.log = data_dir, mqtt_port, log
        self.http_port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "HALL_ENV_FILE": "/nonexistent", "HALL_MQTT_HOST": "127.0.0.1",
               "HALL_MQTT_PORT": str(self.mqtt_port), "HALL_SITE_ID": "test-site",
               "HALL_DATA_DIR": str(self.data_dir)}
        self.proc = subprocess.Popen([sys.executable, "-m", "broker.cli", "admin", "serve", "--port",
                                      str(self.http_port), "--data-dir", str(self.data_dir)],
                                     env=env, stdout=self.log, stderr=self.log)
        wait_port(self.http_port, timeout=60)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _counts(db) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "checkins": one(f"SELECT COUNT(*) FROM checkins WHERE meeting_id = '{MEETING}'"),
            "checkin_members": one(f"SELECT COUNT(DISTINCT member_id) FROM checkins WHERE meeting_id = '{MEETING}'"),
            "plays": one("SELECT COUNT(*) FROM play_records WHERE device_id = 'kiosk-1'"),
            "play_items": one("SELECT COUNT(DISTINCT item_id) FROM play_records WHERE device_id = 'kiosk-1'"),
        }


def test_no_record_lost_or_doubled_through_broker_kill_and_admin_restart(tmp_path):
    from content.signing import ManifestSigner
    from kiosk.network import KioskLink
    from kiosk.playlog import PlayLog
    from robot.face.agent import CheckInAgent
    from robot.face.config import FaceConfig
    from robot.face.outbox import CheckInOutbox

    port = free_port()
    broker = _start_broker("mosquitto", port, tmp_path)
    data_dir = tmp_path / "admin"
    _prepare_admin(data_dir)
    log = open(tmp_path / "admin.log", "ab")
    admin = Admin(data_dir, port, log)
    info = BrokerInfo("mosquitto", "127.0.0.1", port)
    key = ManifestSigner.generate().public_key_b64

    async def scenario() -> dict[str, int]:
        nonlocal broker
        watcher = HallClient(info.settings(), client_id="watcher", kind="bench", availability=False)
        admin_online: list[bool] = []

        async def on_availability(msg: Availability) -> None:
            if msg.kind == "admin":
                admin_online.append(msg.state == "online")

        watcher.subscribe(Availability, on_availability)
        await watcher.start()
        assert await watcher.wait_connected(10)

        async def admin_up(timeout: float = 60.0) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not (admin_online and admin_online[-1]):
                await asyncio.sleep(0.1)
            assert admin_online and admin_online[-1], "the admin came online on the broker"

        admin.start()
        await admin_up()

        # the robot: its outbox and its agent's delivery (resend until acked)
        robot_client = HallClient(info.settings(), client_id="robot-1", kind="robot", reconnect_max=2)
        outbox = CheckInOutbox(tmp_path / "robot-outbox")
        agent = CheckInAgent(config=FaceConfig(_env_file=None, resend_seconds=1.0, liveness="off"),
                             site_id="test-site", device_id="robot-1", pipeline=None, gallery=None,
                             meetings=list, outbox=outbox, publish=robot_client.publish)
        agent.attach(robot_client)
        sent: dict[str, int] = {}  # instrumentation only: copies published per record id
        real_publish = robot_client.publish

        def counting_publish(message, **kw):
            key = getattr(message, "checkin_id", None) or getattr(message, "batch_id", None)
            if key:
                sent[key] = sent.get(key, 0) + 1
            return real_publish(message, **kw)

        robot_client.publish = counting_publish  # type: ignore[method-assign]
        agent.publish = counting_publish
        await robot_client.start()
        # the kiosk: its play log and its link (seals and sends every interval until acked)
        playlog = PlayLog(tmp_path / "kiosk-playlog")
        kiosk = KioskLink(info.settings(data_dir=tmp_path / "kiosk", public_key=key), device_id="kiosk-1",
                          groups=["lobby"], playlog=playlog, proof_interval=0.5)
        kiosk_publish = kiosk.endpoint.client.publish

        def counting_kiosk_publish(message, **kw):
            if getattr(message, "batch_id", None):
                sent[message.batch_id] = sent.get(message.batch_id, 0) + 1
            return kiosk_publish(message, **kw)

        kiosk.endpoint.client.publish = counting_kiosk_publish  # type: ignore[method-assign]
        await asyncio.to_thread(kiosk.start)

        async def resend_loop() -> None:  # what the agent's frame loop does once a second
            while True:
                await asyncio.sleep(0.5)
                agent.resend_pending()

        resender = asyncio.create_task(resend_loop())
        now = time.time()
        for i in range(max(N_CHECKINS, N_PLAYS)):
            if i < N_CHECKINS:
                assert outbox.add(CheckIn(site_id="test-site", device_id="robot-1", meeting_id=MEETING,
                                          member_id=f"m{i:03d}", member_name=f"党员{i}", method="face",
                                          score=0.3, ts=now + i))
                agent.resend_pending()
            if i < N_PLAYS:
                playlog.record(PlayRecord(item_id=f"item-{i:03d}", version_sha256="ab" * 32,
                                          started_at=now + i, duration_s=8.0))
            await asyncio.sleep(0.1)
            if i == N_CHECKINS // 3:
                broker.kill()  # SIGKILL: whatever it held in flight is gone
                broker.wait(10)
                await asyncio.sleep(1.0)
                broker = _start_broker("mosquitto", port, tmp_path)
            if i == 2 * N_CHECKINS // 3:
                await asyncio.to_thread(admin.kill)
                await asyncio.sleep(0.5)
                await asyncio.to_thread(admin.start)

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if not outbox.pending() and not playlog.batches() and not playlog.pending_file.exists():
                break
            await asyncio.sleep(0.3)
        left = {"checkins_unacked": len(outbox.pending()), "play_batches_unacked": len(playlog.batches()),
                "records_sent_more_than_once": sum(1 for n in sent.values() if n > 1)}
        resender.cancel()
        await asyncio.to_thread(kiosk.stop)
        await robot_client.stop()
        await watcher.stop()
        return left

    try:
        left = asyncio.run(scenario())
    finally:
        admin.stop()
        broker.kill()
        broker.wait(10)
        log.close()
    counts = _counts(data_dir / "admin" / "admin.db")
    # the faults did bite: some records had to be sent again (and the admin stored them once)
    assert left.pop("records_sent_more_than_once") > 0, (left, counts)
    assert left == {"checkins_unacked": 0, "play_batches_unacked": 0}, (left, counts)
    assert counts == {"checkins": N_CHECKINS, "checkin_members": N_CHECKINS,
                      "plays": N_PLAYS, "play_items": N_PLAYS}, counts
