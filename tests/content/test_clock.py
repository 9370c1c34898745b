"""Alert deadlines on the monotonic clock: wall-clock jumps after receipt
change nothing (pure logic, injected clocks)."""

from __future__ import annotations

from content.clock import Deadline

WALL = 1_800_000_000.0


def test_deadline_counts_what_was_left_at_receipt():
    deadline = Deadline.from_wall(WALL + 600, wall_now=WALL, monotonic_now=50.0)
    assert deadline.remaining(50.0) == 600
    assert not deadline.passed(649.9) and deadline.passed(650.0)


def test_wall_clock_jumps_after_receipt_do_not_move_the_deadline():
    from broker.messages import EmergencyAlert

    alert = EmergencyAlert(site_id="s", group="all", title="疏散", expires_at=WALL + 600)
    deadline = Deadline.from_wall(alert.expires_at, wall_now=WALL, monotonic_now=1000.0)
    # 1 s later the clock is set 2 h ahead: the wall clock alone would end the takeover
    assert not alert.active(WALL + 7200 + 1) and not deadline.passed(1001.0)
    # 601 s later the clock is set 2 h back: the wall clock alone would keep it 2 h more
    assert alert.active(WALL - 7200 + 601) and deadline.passed(1601.0)


def test_an_alert_already_past_its_expiry_at_receipt_is_passed_at_once():
    deadline = Deadline.from_wall(WALL - 1, wall_now=WALL, monotonic_now=5.0)
    assert deadline.passed(5.0) and deadline.remaining(5.0) == 0.0
