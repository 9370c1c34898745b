"""Guide actions and their lifecycle over a real MQTT broker: a robot client
publishes GuideAction, the hall (offscreen Panda3D) answers with GuideStatus."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from broker.client import HallClient
from broker.messages import CommandReply, DeviceCommand, DialogueTurn, ExhibitView, GuideAction, GuideStatus
from vrhall.link import subscribe_dialogue, subscribe_guide

HALL = "hall-1"
SPEEDUP = 25.0  # the hall's clock runs fast so glides and dwells take a fraction of a second


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout=15):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def wired_hall(mqtt_broker, hall_app, exhibits):
    settings = mqtt_broker.settings(site_id="test-site")
    loop = LoopThread()
    hall_client = HallClient(settings, client_id=HALL, kind="vrhall")
    robot = HallClient(settings, client_id="robot-1", kind="robot")
    received: list = []

    async def collect(message):
        received.append(message)

    subscribe_guide(hall_client, HALL, hall_app.inbox)
    subscribe_dialogue(hall_client, hall_app.inbox)
    robot.subscribe(GuideStatus, collect, hall_id=HALL)
    robot.subscribe(ExhibitView, collect, device_id=HALL)

    async def start():
        await hall_client.start()
        await robot.start()
        assert await hall_client.wait_connected(10) and await robot.wait_connected(10)

    loop.run(start())
    hall_app.publish = hall_client.publish
    origin = time.monotonic()
    hall_app.clock = lambda: origin + (time.monotonic() - origin) * SPEEDUP
    hall_app.load(exhibits)
    time.sleep(0.3)  # let the subscriptions settle at the broker
    yield hall_app, robot, received
    loop.run(robot.stop())
    loop.run(hall_client.stop())
    loop.close()


def pump(app, until, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.render_frames(1)
        if until():
            return True
        time.sleep(0.005)
    return False


def statuses(received, request_id):
    return [m for m in received if isinstance(m, GuideStatus) and m.request_id == request_id]


def test_goto_and_unknown_exhibit_over_broker(wired_hall):
    app, robot, received = wired_hall
    unknown = GuideAction(site_id="test-site", hall_id=HALL, action="goto", exhibit_id="no-such-thing")
    robot.publish(unknown)
    assert pump(app, lambda: statuses(received, unknown.request_id))
    failed = statuses(received, unknown.request_id)[0]
    assert failed.state == "failed" and failed.reason == "未知展品"

    goto = GuideAction(site_id="test-site", hall_id=HALL, action="goto", exhibit_id="kaiguo",
                       requested_by="robot-1")
    robot.publish(goto)
    assert pump(app, lambda: any(m.state == "arrived" for m in statuses(received, goto.request_id)))
    assert [m.state for m in statuses(received, goto.request_id)] == ["accepted", "moving", "arrived"]
    assert statuses(received, goto.request_id)[-1].exhibit_title == "开国大典"
    view = app.layout.placement("kaiguo").view
    assert (app.pose.x, app.pose.y) == pytest.approx((view.x, view.y))


def test_tour_pause_resume_skip_stop_over_broker(wired_hall):
    app, robot, received = wired_hall
    tour = GuideAction(site_id="test-site", hall_id=HALL, action="tour", route=["yida", "nanhu", "zunyi", "kaiguo"])
    robot.publish(tour)
    assert pump(app, lambda: any(m.state == "arrived" for m in statuses(received, tour.request_id)))
    for verb in ("pause", "resume", "skip"):
        control = GuideAction(site_id="test-site", hall_id=HALL, action=verb)
        robot.publish(control)
        assert pump(app, lambda: statuses(received, control.request_id))
        assert statuses(received, control.request_id)[0].state == "accepted", verb
    # Let the tour run to its end.
    assert pump(app, lambda: any(m.state == "completed" for m in statuses(received, tour.request_id)), timeout=40)
    seen = [(m.state, m.exhibit_id) for m in statuses(received, tour.request_id) if m.state in ("arrived",)]
    assert [e for _, e in seen][0] == "yida" and seen[-1][1] == "kaiguo"
    assert pump(app, lambda: any(isinstance(m, ExhibitView) and m.event == "tour_completed" for m in received))

    # A second tour, stopped half way: cancelled, and the tour counts as abandoned.
    tour2 = GuideAction(site_id="test-site", hall_id=HALL, action="tour")
    robot.publish(tour2)
    assert pump(app, lambda: any(m.state == "moving" for m in statuses(received, tour2.request_id)))
    stop = GuideAction(site_id="test-site", hall_id=HALL, action="stop")
    robot.publish(stop)
    assert pump(app, lambda: any(m.state == "cancelled" for m in statuses(received, tour2.request_id)))
    assert pump(app, lambda: any(isinstance(m, ExhibitView) and m.event == "tour_abandoned" for m in received))


def test_published_manifests_build_and_hot_reload_through_the_endpoint(mqtt_broker, content_http, hall_app,
                                                                       exhibits, media_dir, tmp_path):
    """The whole path: admin publishes a signed manifest (retained desired
    state), the Endpoint fetches and verifies it in its thread, the hall builds;
    a second publication adds a room without restarting anything."""
    from content.model import Exhibit, Manifest
    from vrhall.sources import EndpointSource

    for e in exhibits:
        if e.image is not None:
            content_http.put_media(media_dir / e.image.sha256)
    settings = mqtt_broker.settings(site_id="test-site", data_dir=tmp_path / "hall-data",
                                    public_key=content_http.public_key, groups=["hall"], admin_url=content_http.url)
    admin = HallClient(mqtt_broker.settings(site_id="test-site"), client_id="admin", kind="admin",
                       availability=False)
    loop = LoopThread()
    loop.run(admin.start())
    assert loop.run(admin.wait_connected(10))
    first = Manifest(site_id="test-site", group="hall", version=1, created_at=time.time(), items=exhibits[:4])
    admin.publish(content_http.desired(first))

    source = EndpointSource(settings, HALL)
    try:
        manifest = source.wait_manifest(20)
        assert manifest is not None and manifest.version == 1
        hall_app.builder.resolve = source.resolve
        hall_app.inbox = source.inbox
        hall_app.publish = source.publish
        source.attach(hall_app)
        report = hall_app.load_manifest(manifest)
        assert len(report.layout.rooms) == 2
        assert not [n for n in report.skipped if "图片缺失" in n]  # media came through the cache

        second = first.model_copy(update={"version": 2, "items": list(exhibits) + [
            Exhibit(id="gaige", title="改革开放", section="改革开放", year=1978)]})
        admin.publish(content_http.desired(second))
        assert pump(hall_app, lambda: len(hall_app.layout.rooms) == 5, timeout=20)

        # Guide actions reach the hall through the same endpoint's client.
        received: list = []

        async def collect(message):
            received.append(message)

        admin.subscribe(GuideStatus, collect, hall_id=HALL)
        time.sleep(0.3)
        goto = GuideAction(site_id="test-site", hall_id=HALL, action="goto", exhibit_id="gaige")
        admin.publish(goto)
        assert pump(hall_app, lambda: statuses(received, goto.request_id))
        assert statuses(received, goto.request_id)[0].state == "accepted"

        # Device commands from the admin: show an item, take a screenshot.
        admin.subscribe(CommandReply, collect, device_id=HALL)
        time.sleep(0.3)
        show = DeviceCommand(site_id="test-site", device_id=HALL, command="show_item", args={"item_id": "nope"})
        shot = DeviceCommand(site_id="test-site", device_id=HALL, command="screenshot")
        admin.publish(show)
        admin.publish(shot)

        def reply(request_id):
            return next((m for m in received if isinstance(m, CommandReply) and m.request_id == request_id), None)

        assert pump(hall_app, lambda: reply(show.request_id) and reply(shot.request_id), timeout=30)
        assert not reply(show.request_id).ok and "未知展品" in reply(show.request_id).error
        assert reply(shot.request_id).ok, reply(shot.request_id).error
        path, png = content_http.received[-1]
        assert path == f"/api/devices/{HALL}/screenshot" and png.startswith(b"\x89PNG")
    finally:
        source.close()
        loop.run(admin.stop())
        loop.close()


def test_robot_dialogue_shows_as_subtitles(wired_hall):
    app, robot, _ = wired_hall
    robot.publish(DialogueTurn(site_id="test-site", robot_id="robot-1", session_id="s1", role="robot",
                               text="遵义会议是党的历史上一个生死攸关的转折点。"))
    assert pump(app, lambda: "遵义会议" in app.subtitle_text())
    assert app.subtitle_text().startswith("讲解员：")
