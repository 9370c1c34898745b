"""The client base against real brokers over real sockets (amqtt and Mosquitto)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from broker.client import HallClient
from broker.messages import Availability, DesiredState, DeviceCommand, CommandReply, ReportedState
from tests.conftest import MosquittoProcess, free_port, mosquitto_conf, wait_port

SHA = "cd" * 32


def desired(version: int, group: str = "lobby") -> DesiredState:
    return DesiredState(site_id="test-site", group=group, version=version, manifest_sha256=SHA,
                        manifest_url=f"http://x/media/{SHA}", signature="c2ln", published_at=1.0)


async def until(predicate, timeout: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def test_typed_pubsub_retained_and_availability(any_broker):
    async def scenario():
        admin = HallClient(any_broker.settings(), client_id="admin", kind="admin", availability=False)
        kiosk = HallClient(any_broker.settings(), client_id="kiosk-1", kind="kiosk", groups=["lobby"])
        seen: list = []
        states: list = []

        async def on_desired(msg):
            seen.append(msg)

        async def on_availability(msg):
            states.append((msg.device_id, msg.state))

        admin.subscribe(Availability, on_availability)
        await admin.start()
        assert await admin.wait_connected(5)
        admin.publish(desired(1))  # retained before the kiosk exists
        await asyncio.sleep(0.2)
        kiosk.subscribe(DesiredState, on_desired, group="lobby")
        await kiosk.start()
        assert await until(lambda: [m.version for m in seen] == [1])
        assert await until(lambda: ("kiosk-1", "online") in states)
        await kiosk.stop()
        assert await until(lambda: states[-1] == ("kiosk-1", "offline"))
        await admin.stop()

    asyncio.run(scenario())


def test_malformed_messages_and_failing_handlers_do_not_stop_the_loop(any_broker):
    async def scenario():
        client = HallClient(any_broker.settings(), client_id="kiosk-1", kind="kiosk", groups=["lobby"])
        good: list = []
        calls = {"n": 0}

        async def flaky(msg):
            calls["n"] += 1
            if msg.version == 2:
                raise RuntimeError("boom")
            good.append(msg.version)

        client.subscribe(DesiredState, flaky, group="lobby")
        await client.start()
        assert await client.wait_connected(5)
        topic = DesiredState.topic(group="lobby")
        client._paho.publish(topic, b"{not json", qos=1)
        client._paho.publish(topic, b'{"site_id": "s", "version": "x"}', qos=1)
        client.publish(desired(2), retain=False)
        client.publish(desired(3), retain=False)
        assert await until(lambda: good == [3])
        assert client.stats["dropped"] == 2
        assert client.stats["handler_errors"] == 1
        await client.stop()

    asyncio.run(scenario())


def test_handler_replies_are_published(any_broker):
    async def scenario():
        device = HallClient(any_broker.settings(), client_id="kiosk-1", kind="kiosk")
        admin = HallClient(any_broker.settings(), client_id="admin", kind="admin", availability=False)
        replies: list = []

        async def on_command(cmd):
            yield CommandReply(site_id="test-site", device_id="kiosk-1", request_id=cmd.request_id, ok=True,
                               result={"echo": cmd.args["x"]})

        async def on_reply(msg):
            replies.append(msg)

        device.subscribe(DeviceCommand, on_command, device_id="kiosk-1")
        admin.subscribe(CommandReply, on_reply)
        await device.start()
        await admin.start()
        assert await device.wait_connected(5) and await admin.wait_connected(5)
        command = DeviceCommand(site_id="test-site", device_id="kiosk-1", command="ping", args={"x": 42})
        admin.publish(command)
        assert await until(lambda: replies and replies[0].request_id == command.request_id)
        assert replies[0].result == {"echo": 42}
        await device.stop()
        await admin.stop()

    asyncio.run(scenario())


class _AmqttProcess:
    """The embedded broker as its own process, so a test can kill it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "broker.cli", "broker", "--allow-anonymous",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port, 30)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.mark.parametrize("kind", ["amqtt", "mosquitto"])
def test_client_survives_broker_kill_and_resubscribes(kind, tmp_path):
    port = free_port()
    broker = _AmqttProcess(port) if kind == "amqtt" else MosquittoProcess(mosquitto_conf(port, tmp_path), port)
    broker.start()
    from tests.conftest import BrokerInfo

    info = BrokerInfo(kind, "127.0.0.1", port)

    async def scenario():
        device = HallClient(info.settings(), client_id="kiosk-1", kind="kiosk", reconnect_max=2)
        admin = HallClient(info.settings(), client_id="admin", kind="admin", availability=False, reconnect_max=2)
        got: list = []

        async def on_desired(msg):
            got.append(msg.version)

        device.subscribe(DesiredState, on_desired, group="lobby")
        await device.start()
        await admin.start()
        assert await device.wait_connected(5) and await admin.wait_connected(5)
        admin.publish(desired(1), retain=False)
        assert await until(lambda: got == [1])

        broker.stop()  # SIGKILL: no goodbye
        assert await until(lambda: not device.connected, 10)
        broker.start()
        assert await until(lambda: device.connected and admin.connected, 20)
        admin.publish(desired(2), retain=False)
        # the device resubscribed by itself on reconnect
        assert await until(lambda: got == [1, 2], 10)
        assert device.stats["connects"] >= 2
        await device.stop()
        await admin.stop()

    try:
        asyncio.run(scenario())
    finally:
        broker.stop()


def test_broker_down_at_start_then_up(tmp_path):
    port = free_port()
    broker = MosquittoProcess(mosquitto_conf(port, tmp_path), port)
    from tests.conftest import BrokerInfo

    info = BrokerInfo("mosquitto", "127.0.0.1", port)

    async def scenario():
        device = HallClient(info.settings(), client_id="robot-1", kind="robot", reconnect_max=2)
        reported: list = []
        await device.start()  # returns although nothing listens yet
        assert not await device.wait_connected(1.5)
        device.publish(ReportedState(site_id="test-site", device_id="robot-1", kind="robot", status="empty"))
        broker.start()
        admin = HallClient(info.settings(), client_id="admin", kind="admin", availability=False)

        async def on_reported(msg):
            reported.append(msg.status)

        admin.subscribe(ReportedState, on_reported)
        await admin.start()
        assert await device.wait_connected(15)
        assert await until(lambda: device.connected)
        device.publish(ReportedState(site_id="test-site", device_id="robot-1", kind="robot", status="applied"))
        assert await until(lambda: "applied" in reported)
        await device.stop()
        await admin.stop()

    try:
        asyncio.run(scenario())
    finally:
        broker.stop()
