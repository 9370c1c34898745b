"""An emergency takeover runs its time on the monotonic clock: setting the
device's wall clock by two hours, either way, neither ends it nor prolongs it.
Pure rule with injected clocks, the kiosk itself with a jumped wall clock, a
restart (which can only use the wall clock), and the Endpoint over a real broker."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import pytest

from broker.messages import AlertAck, EmergencyAlert
from kiosk import events
from kiosk.script import press
from kiosk.script import wait as advance
from kiosk.state import KioskState, ShownAlert

HOURS_2 = 2 * 3600.0
WALL0 = 1_800_000_000.0  # some wall-clock time; the fake clocks start here


class Clocks:
    """A wall clock that can be set like a device's, and a monotonic one that only runs."""

    def __init__(self) -> None:
        self.wall = WALL0
        self.mono = 1000.0

    def run(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def set_wall(self, delta: float) -> None:
        self.wall += delta


def _alert(expires_in: float | None = 600.0, **kw) -> EmergencyAlert:
    values = dict(site_id="s", group="all", title="紧急通知：请立即有序疏散", body="请按照安全出口指示撤离。",
                  expires_at=None if expires_in is None else WALL0 + expires_in)
    values.update(kw)
    return EmergencyAlert(**values)


def _state(tmp_path, clocks: Clocks) -> KioskState:
    return KioskState("k", "s", ZoneInfo("Asia/Shanghai"), tmp_path, wall_time=lambda: clocks.wall,
                      monotonic=lambda: clocks.mono)


# -- pure rule ----------------------------------------------------------------------
@pytest.mark.parametrize("jump", [HOURS_2, -HOURS_2])
def test_wall_clock_jump_neither_ends_nor_prolongs(tmp_path, jump):
    clocks = Clocks()
    state = _state(tmp_path, clocks)
    state.show_alert(state.receive_alert(_alert(expires_in=600)))
    assert state.alert_active()
    clocks.run(60)
    clocks.set_wall(jump)
    assert state.alert_active(), "the jump ended the takeover"
    assert _alert(expires_in=600).active(clocks.wall) is (jump < 0)  # what the wall clock alone would say
    clocks.run(539)
    assert state.alert_active()
    clocks.run(1.5)
    assert not state.alert_active(), "the jump prolonged the takeover"


def test_alert_without_expiry_lasts_until_cancelled(tmp_path):
    clocks = Clocks()
    state = _state(tmp_path, clocks)
    alert = _alert(expires_in=None)
    state.show_alert(state.receive_alert(alert))
    clocks.run(10 * 86400)
    assert state.alert_active()
    assert not state.receive_alert(alert.model_copy(update={"cancelled": True})).active(clocks.mono)


def test_deadline_handed_over_is_kept(tmp_path):
    """A ShownAlert from the Endpoint keeps its deadline; the kiosk does not re-read the wall clock."""
    clocks = Clocks()
    state = _state(tmp_path, clocks)
    shown = ShownAlert.arrived(_alert(expires_in=600), wall_now=WALL0, monotonic_now=clocks.mono)
    clocks.run(100)
    clocks.set_wall(HOURS_2)
    assert state.receive_alert(shown) is shown
    assert shown.deadline.remaining(clocks.mono) == pytest.approx(500)


def test_restart_can_only_use_the_wall_clock(tmp_path):
    clocks = Clocks()
    state = _state(tmp_path, clocks)
    state.show_alert(state.receive_alert(_alert(expires_in=600)))
    state.save_alert()
    clocks.run(100)
    clocks.mono = 5.0  # a reboot restarts the monotonic clock
    restored = _state(tmp_path, clocks)
    restored.restore_alert()
    assert restored.alert_active() and restored.alert_deadline.remaining(clocks.mono) == pytest.approx(500)
    # Documented limit: a wall clock set forward across a restart ends it.
    clocks.set_wall(HOURS_2)
    late = _state(tmp_path, clocks)
    late.restore_alert()
    assert late.alert is None


# -- the kiosk ----------------------------------------------------------------------
def _kiosk(demo, tmp_path, clocks: Clocks):
    from kiosk.app import KioskApp
    from kiosk.config import KioskConfig
    from kiosk.images import directory_resolver

    manifest, media = demo
    app = KioskApp(KioskConfig(headless=True, data_dir=tmp_path / "kiosk", idle_s=60.0), manifest=manifest,
                   resolver=directory_resolver(media), wall_time=lambda: clocks.wall, monotonic=lambda: clocks.mono)
    app.draw()
    return app


@pytest.mark.parametrize("jump", [HOURS_2, -HOURS_2])
def test_kiosk_takeover_survives_a_clock_jump_and_ends_on_time(demo, tmp_path, jump):
    clocks = Clocks()
    kiosk = _kiosk(demo, tmp_path, clocks)
    events.post(events.ALERT_CHANGED, _alert(expires_in=600))
    advance(kiosk, 0.1)
    assert kiosk.alert_active()
    clocks.run(300)
    clocks.set_wall(jump)
    advance(kiosk, 0.5)
    assert kiosk.alert_active() and kiosk.state.alert_file.exists()
    press(kiosk, (kiosk.size[0] // 2, kiosk.size[1] // 2))
    assert kiosk.current_name == "home"  # the takeover still owns the screen
    clocks.run(299)
    advance(kiosk, 0.5)
    assert kiosk.alert_active()
    clocks.run(2)
    advance(kiosk, 0.5)
    assert not kiosk.alert_active() and kiosk.state.alert is None
    assert not kiosk.state.alert_file.exists()


# -- the Endpoint over a real broker -----------------------------------------------------
def test_endpoint_and_kiosk_agree_over_a_real_broker(mqtt_broker, app_factory, tmp_path):
    """The wall clock of the device is set +2 h while one alert shows and -2 h
    while a short one shows: neither the Endpoint (no "cleared" ack) nor the
    screen drops the first, and both drop the second on time."""
    from content.signing import ManifestSigner
    from kiosk.network import KioskLink

    from .test_network import Admin, pump_until

    offset = [0.0]
    settings = mqtt_broker.settings(data_dir=tmp_path / "var", public_key=ManifestSigner.generate().public_key_b64,
                                    device_id="kiosk-1", groups=["lobby"])
    app = app_factory()
    link = KioskLink(settings, device_id="kiosk-1", groups=["lobby"], playlog=app.playlog, outbox=app.outbox,
                     proof_interval=3600, wall_clock=lambda: time.time() + offset[0])
    app.state.publish = link.publish
    link.start()
    admin = Admin(mqtt_broker)
    try:
        assert pump_until(app, lambda: app.state.online)
        long = EmergencyAlert(site_id="test-site", group="all", title="紧急通知：请立即有序疏散",
                              expires_at=time.time() + 600)
        admin.publish(long)
        assert pump_until(app, app.alert_active)
        offset[0] = HOURS_2
        stay = time.monotonic() + 1.6  # the Endpoint looks at expiry once a second
        assert not pump_until(app, lambda: not app.alert_active(), timeout=stay - time.monotonic())
        assert (long.alert_id, "cleared") not in [(a.alert_id, a.state) for a in admin.of(AlertAck)]
        admin.publish(long.model_copy(update={"cancelled": True, "ts": time.time()}))
        assert pump_until(app, lambda: not app.alert_active())

        offset[0] = 0.0
        short = EmergencyAlert(site_id="test-site", group="all", title="演练结束前请勿离开",
                               expires_at=time.time() + 2.0)
        admin.publish(short)
        assert pump_until(app, app.alert_active)
        shown_at = time.monotonic()
        offset[0] = -HOURS_2
        assert pump_until(app, lambda: not app.alert_active(), timeout=6)
        assert time.monotonic() - shown_at < 4.0
        assert pump_until(app, lambda: (short.alert_id, "cleared") in [(a.alert_id, a.state)
                                                                      for a in admin.of(AlertAck)], timeout=5)
    finally:
        admin.close()
        link.stop()
