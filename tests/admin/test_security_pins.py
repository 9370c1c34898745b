"""Learning-point PIN guesses are limited: kiosks submit points over a real
MQTT broker to a real admin, which backs off per member after wrong PINs and
caps wrong PINs per kiosk (spraying one PIN over many members).

The limiter's clock is a controllable one so that "the wait has passed" is
exact rather than a sleep; everything else (broker, bus, argon2, database) is
the real thing."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from broker import messages as m
from admin.ratelimit import Backoff, PinGuard, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_and_window_arithmetic():
    clock = Clock()
    backoff = Backoff(free=2, cap_s=10, clock=clock)
    waits = [backoff.failed("a") for _ in range(6)]
    assert waits == [0, 2, 4, 8, 10, 10]
    assert backoff.wait_s("a") == 10 and backoff.wait_s("b") == 0
    clock.now += 10.5
    assert backoff.wait_s("a") == 0
    backoff.succeeded("a")
    assert backoff.failures("a") == 0

    window = SlidingWindow(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        assert window.wait_s("k") == 0
        window.hit("k")
    assert window.wait_s("k") == 60
    clock.now += 61
    assert window.wait_s("k") == 0

    bounded = Backoff(free=0, cap_s=10, max_keys=100, clock=clock)
    for i in range(1000):
        bounded.failed(f"made-up-{i}")
    assert len(bounded._state) == 100


@pytest.fixture
def pin_admin(tmp_path, template_dir, mqtt_broker):
    from tests.admin.conftest import LiveAdmin, _free_port, admin_settings

    root, tokens = template_dir
    shutil.copytree(root / "data", tmp_path / "data")
    settings = admin_settings(tmp_path, mqtt_enabled=True, mqtt_host=mqtt_broker.host, mqtt_port=mqtt_broker.port,
                              admin_url=f"http://127.0.0.1:{_free_port()}", pin_free_failures=2,
                              pin_max_delay_s=600, pin_device_failures_per_window=4, pin_device_window_s=600)
    admin = LiveAdmin(settings, tokens)
    clock = Clock()
    admin.ctx.extras["pin_guard"] = PinGuard.from_settings(settings, clock=clock)
    admin.start()
    try:
        yield admin, clock
    finally:
        admin.stop()


def test_pin_guesses_are_limited_per_member_and_per_kiosk(pin_admin, mqtt_broker):
    from broker.client import HallClient

    admin, clock = pin_admin
    editor = admin.client("editor")
    pins = {"00011": "2468", "00012": "1357", "00013": "9753", "00014": "8642", "00015": "7531", "00016": "5791"}
    for no, pin in pins.items():
        assert editor.post("/api/members", json={"id": f"m{no}", "name": f"党员{no}", "member_no": no}).status_code == 201
        assert editor.put(f"/api/members/m{no}/pin", json={"pin": pin}).status_code == 204

    async def scenario(steps):  # (device, member_no, pin) -> ack, one at a time
        acks: dict[str, m.PointsAck] = {}

        async def on_ack(ack: m.PointsAck) -> None:
            acks[ack.event_id] = ack

        clients = {}
        for device in ("kiosk-p1", "kiosk-p2"):
            client = HallClient(mqtt_broker.settings(site_id="test-site"), client_id=device, kind="kiosk")
            client.subscribe(m.PointsAck, on_ack, device_id=device)
            await client.start()
            assert await client.wait_connected(10)
            clients[device] = client
        await asyncio.sleep(0.3)  # subscriptions settle before the first event
        results = []
        for step in steps:
            if step == "advance":
                clock.now += 3
                continue
            device, no, pin = step
            event = m.LearningPoints(site_id="test-site", device_id=device, member_no=no, points=5,
                                     reason="完成测验", pin=pin)
            clients[device].publish(event)
            deadline = time.monotonic() + 20
            while event.event_id not in acks and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            results.append(acks.get(event.event_id))
        for client in clients.values():
            await client.stop()
        return results

    steps = [
        ("kiosk-p1", "00011", "0000"),  # 1st wrong: free
        ("kiosk-p1", "00011", "1111"),  # 2nd wrong: member 00011 now waits 2 s
        ("kiosk-p1", "00011", "2468"),  # the right PIN, too soon: refused unchecked
        "advance",
        ("kiosk-p1", "00011", "2468"),  # after the wait: accepted
        # kiosk-p2 sprays one common PIN over four members (one guess each: no member back-off) ...
        ("kiosk-p2", "00012", "1234"), ("kiosk-p2", "00013", "1234"),
        ("kiosk-p2", "00014", "1234"), ("kiosk-p2", "00015", "1234"),
        ("kiosk-p2", "00016", "5791"),  # ... and is now refused even with a right PIN
        ("kiosk-p1", "00016", "5791"),  # the same member at another kiosk is fine
    ]
    acks = asyncio.run(scenario(steps))
    assert all(a is not None for a in acks), acks
    wrong1, wrong2, too_soon, later, *spray, sprayer_blocked, other_kiosk = acks
    assert not wrong1.accepted and "密码错误" in wrong1.reason
    assert not wrong2.accepted and "密码错误" in wrong2.reason
    assert not too_soon.accepted and "次数过多" in too_soon.reason
    assert later.accepted and later.total == 5
    assert all(not a.accepted and "党员编号或密码错误" in a.reason for a in spray)
    assert not sprayer_blocked.accepted and "次数过多" in sprayer_blocked.reason
    assert other_kiosk.accepted and other_kiosk.total == 5
    totals = {mb["member_no"]: mb["points_total"] for mb in editor.get("/api/members").json()}
    assert totals == {"00011": 5, "00012": 0, "00013": 0, "00014": 0, "00015": 0, "00016": 5}


@pytest.mark.parametrize("pin,weak", [("1111", True), ("1234", True), ("9876", True), ("01234", True),
                                      ("00101", True), ("2468", False), ("8642", False), ("135790", False),
                                      ("1243", False)])
def test_trivial_pins_are_refused_when_set(hall, pin, weak):
    assert hall["editor"].post("/api/members", json={"id": "w1", "name": "周正", "member_no": "00101"}).status_code == 201
    r = hall["editor"].put("/api/members/w1/pin", json={"pin": pin})
    assert r.status_code == (422 if weak else 204), (pin, r.text)
    if weak:
        assert "过于简单" in r.json()["detail"]
