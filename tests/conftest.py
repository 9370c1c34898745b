"""Fixtures shared by every test package: real brokers on loopback ports."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# No test may open a real window or speaker.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class BrokerInfo:
    """Where a test broker listens; ``settings()`` gives a client's settings."""

    kind: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    extra: dict = field(default_factory=dict)

    def settings(self, **overrides):
        from broker.settings import HallSettings

        values = dict(mqtt_host=self.host, mqtt_port=self.port, mqtt_username=self.username,
                      mqtt_password=self.password, site_id="test-site")
        values.update(overrides)
        return HallSettings(_env_file=None, **values)


class _ThreadBroker:
    """amqtt running in its own thread and event loop, so sync and async tests can use it."""

    def __init__(self, config: dict) -> None:
        from broker.embedded import EmbeddedBroker

        self._broker = EmbeddedBroker(config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._broker.start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("amqtt did not start")

    def stop(self) -> None:
        fut = asyncio.run_coroutine_threadsafe(self._broker.stop(), self._loop)
        try:
            fut.result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


@pytest.fixture
def mqtt_broker():
    """A real amqtt broker (anonymous allowed) on a free loopback port."""
    from broker.embedded import broker_config

    port = free_port()
    broker = _ThreadBroker(broker_config(host="127.0.0.1", port=port, fleet=None, password_file=None,
                                         allow_anonymous=True))
    broker.start()
    wait_port(port)
    try:
        yield BrokerInfo("amqtt", "127.0.0.1", port)
    finally:
        broker.stop()


def mosquitto_conf(port: int, directory: Path, extra: str = "") -> Path:
    conf = directory / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "max_queued_messages 100000\n"
        "max_inflight_messages 0\n"
        "set_tcp_nodelay true\n"
        "log_dest none\n" + extra,
        encoding="utf-8",
    )
    return conf


class MosquittoProcess:
    def __init__(self, conf: Path, port: int) -> None:
        self.conf, self.port = conf, port
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _mosquitto_path() -> str | None:
    return shutil.which("mosquitto") or (("/usr/sbin/mosquitto") if Path("/usr/sbin/mosquitto").exists() else None)


@pytest.fixture
def mosquitto_broker(tmp_path):
    """Debian's mosquitto on a free loopback port (installed by `make test`)."""
    if _mosquitto_path() is None:
        pytest.fail("mosquitto is not installed: run `make test` (it installs Debian's mosquitto) "
                    "or apt-get install mosquitto")
    port = free_port()
    proc = MosquittoProcess(mosquitto_conf(port, tmp_path), port)
    proc.start()
    try:
        yield BrokerInfo("mosquitto", "127.0.0.1", port, extra={"process": proc})
    finally:
        proc.stop()


@pytest.fixture(params=["amqtt", "mosquitto"])
def any_broker(request):
    """Runs a test once against the embedded broker and once against Mosquitto."""
    yield request.getfixturevalue("mqtt_broker" if request.param == "amqtt" else "mosquitto_broker")


@pytest.fixture
def hall_cli():
    """Command prefix that runs the `hall` console script of this checkout."""
    return [sys.executable, "-m", "broker.cli"]
