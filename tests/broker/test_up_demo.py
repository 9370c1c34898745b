"""`hall up --demo --headless`: the whole hall as separate processes, every
endpoint online and applied (the "done when" of the foundation)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil

from tests.conftest import free_port


def test_hall_up_demo_brings_every_endpoint_online_and_applied(tmp_path):
    mqtt, admin = free_port(), free_port()
    env = {**os.environ, "HALL_DATA_DIR": str(tmp_path / "var"), "HALL_ENV_FILE": "/nonexistent"}
    up = subprocess.Popen([sys.executable, "-m", "broker.cli", "up", "--demo", "--headless", "--kiosks", "2",
                           "--mqtt-port", str(mqtt), "--admin-port", str(admin)],
                          env=env, stdout=open(tmp_path / "up.log", "wb"), stderr=subprocess.STDOUT)
    try:
        credentials = tmp_path / "var" / "credentials" / "hall-cli.env"
        deadline = time.monotonic() + 60
        while not credentials.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        status = subprocess.run([sys.executable, "-m", "broker.cli", "status", "--wait", "150", "--expect", "4",
                                 "--json"], env=env, capture_output=True, text=True, timeout=200)
        assert status.returncode == 0, status.stderr
        view = json.loads(status.stdout.strip().splitlines()[-1])
        logs = {p.name: p.read_text(errors="replace")[-1500:] for p in (tmp_path / "var" / "logs").glob("*.log")}
        assert view["all_in_sync"], (view, logs)
        kinds = sorted(d["kind"] for d in view["devices"])
        assert kinds == ["kiosk", "kiosk", "robot", "vrhall"], view
        for device in view["devices"]:
            assert device["online"] and device["status"] == "applied"
            assert device["applied_version"] == device["desired_version"] >= 1
        children = psutil.Process(up.pid).children(recursive=True)
        assert len(children) >= 6
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)
    # the supervisor stopped every child it started
    time.sleep(0.5)
    assert all(not c.is_running() or c.status() == psutil.STATUS_ZOMBIE for c in children)
    assert up.returncode == 0
