"""The kiosk over a real broker: emergency takeover with acks, live events,
commands with the screenshot upload, proof of play, and a broker that dies
and comes back while the screen stays up."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from broker.client import HallClient
from broker.messages import (
    AlertAck,
    AttendanceBoard,
    CommandReply,
    DeviceCommand,
    DialogueTurn,
    EmergencyAlert,
    LearningPoints,
    PointsAck,
    ProofOfPlay,
    ProofOfPlayAck,
    Telemetry,
)
from content.signing import ManifestSigner
from kiosk.network import KioskLink
from kiosk.script import tap


class LoopThread:
    """An asyncio loop in a thread for the test's 'admin' client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Admin:
    """What the admin would do: listen to the kiosk and publish to it."""

    def __init__(self, broker) -> None:
        self.loop = LoopThread()
        self.client = HallClient(broker.settings(), client_id="test-admin", kind="admin", availability=False)
        self.got: list = []
        for cls in (AlertAck, LearningPoints, ProofOfPlay, CommandReply, Telemetry):
            self.client.subscribe(cls, self._keep, device_id="+")
        self.loop.run(self.client.start())
        assert self.loop.run(self.client.wait_connected(10), timeout=15)

    async def _keep(self, message) -> None:
        self.got.append(message)

    def of(self, cls) -> list:
        return [m for m in self.got if isinstance(m, cls)]

    def publish(self, message) -> None:
        self.client.publish(message)

    def close(self) -> None:
        try:
            self.loop.run(self.client.stop())
        finally:
            self.loop.close()


class UploadServer:
    """Stands in for the admin's screenshot endpoint."""

    def __init__(self) -> None:
        uploads = self.uploads = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                uploads.append((self.path, self.headers["Content-Type"], body, self.headers.get("Authorization")))
                reply = b'{"sha256": "abc", "url": "/media/abc"}'
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def pump_until(app, predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.pump(0.03)
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def linked(app_factory, tmp_path):
    """A kiosk app wired to a real broker through KioskLink; yields a starter."""
    started = []

    def start(broker, admin_url="http://127.0.0.1:9", signer=None, **overrides):
        signer = signer or ManifestSigner.generate()
        settings = broker.settings(data_dir=tmp_path / "var", public_key=signer.public_key_b64,
                                   device_id="kiosk-1", groups=["lobby"], admin_url=admin_url, **overrides)
        app = app_factory()
        link = KioskLink(settings, device_id="kiosk-1", groups=["lobby"], playlog=app.playlog, outbox=app.outbox,
                         telemetry=lambda: dict(app.telemetry), telemetry_interval=0.5, proof_interval=3600)
        app.state.publish = link.publish
        link.start()
        started.append(link)
        return app, link

    yield start
    for link in started:
        link.stop()


def test_emergency_takeover_over_a_real_broker(mqtt_broker, linked):
    app, link = linked(mqtt_broker)
    admin = Admin(mqtt_broker)
    try:
        assert pump_until(app, lambda: app.state.online)
        tap(app, "党情速递")
        alert = EmergencyAlert(site_id="test-site", group="all", title="紧急通知：请立即有序疏散",
                               body="请按照安全出口指示撤离。", expires_at=time.time() + 600)
        admin.publish(alert)
        assert pump_until(app, app.alert_active)
        assert pump_until(app, lambda: (alert.alert_id, "shown") in [(a.alert_id, a.state) for a in admin.of(AlertAck)])
        tap(app, (app.size[0] // 2, app.size[1] // 2))
        assert app.current_name == "news" and app.alert_active()
        admin.publish(alert.model_copy(update={"cancelled": True, "ts": time.time()}))
        assert pump_until(app, lambda: not app.alert_active())
        assert pump_until(app, lambda: (alert.alert_id, "cleared") in [(a.alert_id, a.state) for a in admin.of(AlertAck)])
        assert app.current_name == "news"
    finally:
        admin.close()


def test_live_events_points_telemetry_commands_and_proof_of_play(mqtt_broker, linked):
    uploads = UploadServer()
    app, link = linked(mqtt_broker, admin_url=uploads.url, mqtt_username="kiosk-1", mqtt_password="device-secret")
    admin = Admin(mqtt_broker)
    try:
        assert pump_until(app, lambda: app.state.online)
        # subtitles and the attendance board arrive as events
        admin.publish(DialogueTurn(site_id="test-site", robot_id="robot-1", session_id="s1", role="visitor",
                                   text="党费怎么交？"))
        admin.publish(AttendanceBoard(site_id="test-site", group="lobby", meeting_id="mtg-now", meeting_title="大会",
                                      expected=12, present=[{"member_id": "m1", "member_name": "张伟"}]))
        assert pump_until(app, lambda: app.state.dialogue and app.state.present_names("mtg-now") == ["张伟"])
        # points go to the admin; its ack comes back to the screen
        from kiosk.screens.education import award_points
        from kiosk.state import Member

        app.state.member = Member("100001", "1234")
        award_points(app, 5, "测试", "lesson-1")
        assert pump_until(app, lambda: admin.of(LearningPoints))
        sent = admin.of(LearningPoints)[0]
        assert [m.event_id for m in app.outbox.pending()] == [sent.event_id]
        admin.publish(PointsAck(site_id="test-site", device_id="kiosk-1", event_id=sent.event_id, total=25))
        assert pump_until(app, lambda: app.state.points_acks and app.state.points_acks[0].total == 25)
        assert app.outbox.pending() == [] and "累计 25 分" in app.toast[0]
        # telemetry carries the UI's own figures
        assert pump_until(app, lambda: any(t.screen for t in admin.of(Telemetry)))
        # commands: show an item, then a screenshot uploaded to the admin
        show = DeviceCommand(site_id="test-site", device_id="kiosk-1", command="show_item",
                             args={"item_id": "honour-0"})
        admin.publish(show)
        assert pump_until(app, lambda: any(r.request_id == show.request_id for r in admin.of(CommandReply)))
        assert app.current_name == "detail" and app.current.item.id == "honour-0"
        shot = DeviceCommand(site_id="test-site", device_id="kiosk-1", command="screenshot")
        admin.publish(shot)
        assert pump_until(app, lambda: any(r.request_id == shot.request_id for r in admin.of(CommandReply)))
        reply = next(r for r in admin.of(CommandReply) if r.request_id == shot.request_id)
        assert reply.ok, reply.error
        path, mime, body, auth = uploads.uploads[0]
        assert path == "/api/devices/kiosk-1/screenshot" and mime == "image/png" and body.startswith(b"\x89PNG")
        import base64

        assert auth == "Basic " + base64.b64encode(b"kiosk-1:device-secret").decode()  # device's MQTT account
        assert reply.result["sha256"] == "abc"
        # proof of play: what was shown goes out in a batch and is deleted once acked
        tap(app, "home")
        link.thread.call(link._send_proof(), timeout=10)
        assert pump_until(app, lambda: admin.of(ProofOfPlay))
        batch = admin.of(ProofOfPlay)[0]
        assert "honour-0" in [r.item_id for r in batch.records]
        assert link.playlog.batches()
        admin.publish(ProofOfPlayAck(site_id="test-site", device_id="kiosk-1", batch_id=batch.batch_id))
        assert pump_until(app, lambda: not link.playlog.batches())
    finally:
        admin.close()
        uploads.close()


def test_broker_killed_screen_stays_and_kiosk_recovers(mosquitto_broker, linked):
    app, link = linked(mosquitto_broker)
    process = mosquitto_broker.extra["process"]
    assert pump_until(app, lambda: app.state.online)
    tap(app, "三会一课")
    process.stop()
    assert pump_until(app, lambda: not app.state.online)
    # offline: the screen keeps working from the last content
    tap(app, "本周安排")
    assert app.current_name == "meetings" and app.current.describe()["meetings"]
    header = app.surface.get_at((app.size[0] // 2, 10))[:3]
    assert header != (0, 0, 0) and header != app.theme.c("bg")[:3]
    # a view recorded while offline is kept on disk
    tap(app, "home")
    tap(app, "党情速递")
    tap(app, "carousel")
    tap(app, "home")
    # points earned while offline wait on disk
    from kiosk.screens.education import award_points
    from kiosk.state import Member

    app.state.member = Member("100009", "4321")
    assert "联网后自动提交" in award_points(app, 3, "离线学习", "lesson-2")
    assert len(app.outbox.pending()) == 1
    process.start()
    assert pump_until(app, lambda: app.state.online, timeout=40)
    admin = Admin(mosquitto_broker)
    try:
        # resubscribed: live events flow again
        admin.publish(DialogueTurn(site_id="test-site", robot_id="robot-1", session_id="s2", role="robot",
                                   text="欢迎参观。"))
        assert pump_until(app, lambda: any(t.session_id == "s2" for t in app.state.dialogue))
        link.thread.call(link._send_proof(), timeout=10)
        assert pump_until(app, lambda: admin.of(ProofOfPlay))
        assert any(r.item_id == "news-1" for b in admin.of(ProofOfPlay) for r in b.records)
        link.thread.call(link._resend_points(), timeout=10)
        assert pump_until(app, lambda: any(p.member_no == "100009" for p in admin.of(LearningPoints)))
    finally:
        admin.close()


def test_published_manifest_reaches_the_screen(mqtt_broker, linked, demo, tmp_path):
    from admin.media import MediaServer
    from broker.messages import DesiredState
    from content.signing import encode_manifest
    from content.store import MediaStore

    manifest, media = demo
    store = MediaStore(tmp_path / "admin-store")
    for path in media.iterdir():
        store.put_file(path)
    news = manifest.item("news-1").model_copy(update={"title": "网络送达的最新要闻"})
    fresh = manifest.model_copy(update={"site_id": "test-site", "group": "lobby", "version": 7,
                                        "items": [news] + [i for i in manifest.items if i.id != "news-1"]})
    data = encode_manifest(fresh)
    sha = store.put_bytes(data)
    server = MediaServer(store).start()  # the admin's real content-addressed media route
    signer = ManifestSigner.generate()
    app, link = linked(mqtt_broker, signer=signer)
    app.images.resolve = link.media_path  # media now come from the endpoint's verified cache
    admin = Admin(mqtt_broker)
    try:
        tap(app, "党情速递")
        admin.client.publish(DesiredState(site_id="test-site", group="lobby", version=7, manifest_sha256=sha,
                                          manifest_url=f"{server.url}/media/{sha}",
                                          signature=signer.sign(data), published_at=time.time()))
        assert pump_until(app, lambda: app.state.manifest is not None and app.state.manifest.version == 7)
        assert app.current_name == "news"
        assert app.current.describe()["current"] == "news-1"
        assert app.find("网络送达的最新要闻") is not None
        assert app.images.get(news.images[0].sha256, (320, 180)) is not None
    finally:
        admin.close()
        server.stop()
