"""Per-device credentials and ACLs, on the embedded broker and on Mosquitto
with the generated configuration."""

from __future__ import annotations

import asyncio

import pytest

from broker.client import HallClient
from broker.fleet import Fleet
from broker.messages import DesiredState, DeviceCommand, ReportedState
from broker.mosquitto_config import write_mosquitto_config
from tests.conftest import BrokerInfo, MosquittoProcess, _ThreadBroker, free_port, wait_port

SHA = "ef" * 32


def _fleet():
    fleet = Fleet()
    passwords = {}
    for device_id, kind, groups in (("admin", "admin", []), ("kiosk-1", "kiosk", ["lobby"]),
                                    ("kiosk-2", "kiosk", ["lobby"]), ("hall-1", "vrhall", ["hall"])):
        _, passwords[device_id] = fleet.provision(device_id, kind=kind, groups=groups)
    return fleet, passwords


@pytest.fixture(params=["amqtt", "mosquitto"])
def secured(request, tmp_path):
    fleet, passwords = _fleet()
    port = free_port()
    if request.param == "amqtt":
        from broker.embedded import broker_config

        broker = _ThreadBroker(broker_config(host="127.0.0.1", port=port, fleet=fleet,
                                             password_file=tmp_path / "passwd"))
        broker.start()
        wait_port(port)
    else:
        # pytest's temporary directories are private to root: keep mosquitto root here
        write_mosquitto_config(fleet, tmp_path / "mq", port=port, run_as="root", persistence=False)
        conf = tmp_path / "mq" / "mosquitto.conf"
        broker = MosquittoProcess(conf, port)
        broker.start()
    try:
        yield BrokerInfo(request.param, "127.0.0.1", port), passwords
    finally:
        broker.stop()


def desired(group: str, version: int) -> DesiredState:
    return DesiredState(site_id="s", group=group, version=version, manifest_sha256=SHA,
                        manifest_url=f"http://x/media/{SHA}", signature="c2ln", published_at=1.0)


async def _settle(seconds: float = 0.8) -> None:
    await asyncio.sleep(seconds)


def test_wrong_password_is_refused(secured):
    info, passwords = secured

    async def scenario():
        client = HallClient(info.settings(mqtt_username="kiosk-1", mqtt_password="nope"), client_id="kiosk-1",
                            kind="kiosk")
        await client.start()
        assert not await client.wait_connected(2)
        await client.stop()

    asyncio.run(scenario())


def test_endpoint_reads_only_its_groups_and_writes_only_its_own_topics(secured):
    info, pw = secured

    async def scenario():
        admin = HallClient(info.settings(mqtt_username="admin", mqtt_password=pw["admin"]), client_id="admin",
                           kind="admin", availability=False)
        k1 = HallClient(info.settings(mqtt_username="kiosk-1", mqtt_password=pw["kiosk-1"]), client_id="kiosk-1",
                        kind="kiosk", groups=["lobby"])
        k2 = HallClient(info.settings(mqtt_username="kiosk-2", mqtt_password=pw["kiosk-2"]), client_id="kiosk-2",
                        kind="kiosk", groups=["lobby"])
        seen_desired: list = []
        reports: list = []
        commands_to_k2: list = []

        async def on_desired(msg):
            seen_desired.append((msg.group, msg.version))

        async def on_report(msg):
            reports.append((msg.device_id, msg.applied_version))

        async def on_command(msg):
            commands_to_k2.append(msg.requested if hasattr(msg, "requested") else msg.command)

        # kiosk-1 asks for every group's desired state; the ACL must narrow it
        k1.subscribe(DesiredState, on_desired, group="lobby")
        k1.subscribe(DesiredState, on_desired, group="hall")
        admin.subscribe(ReportedState, on_report)
        k2.subscribe(DeviceCommand, on_command, device_id="kiosk-2")
        for c in (admin, k1, k2):
            await c.start()
            assert await c.wait_connected(5)
        await _settle(0.3)

        admin.publish(desired("lobby", 1))
        admin.publish(desired("hall", 1))
        # kiosk-1 forges a desired state, another device's report and a command
        k1.publish(desired("lobby", 99))
        k1.publish(ReportedState(site_id="s", device_id="kiosk-2", kind="kiosk", applied_version=666))
        k1.publish(DeviceCommand(site_id="s", device_id="kiosk-2", command="restart"))
        # what it may write
        k1.publish(ReportedState(site_id="s", device_id="kiosk-1", kind="kiosk", applied_version=1))
        await _settle()

        assert ("lobby", 1) in seen_desired
        assert ("hall", 1) not in seen_desired, "read another group's desired state"
        assert ("lobby", 99) not in seen_desired, "published a desired state"
        assert ("kiosk-1", 1) in reports
        assert ("kiosk-2", 666) not in reports, "wrote another device's state"
        assert commands_to_k2 == [], "sent a command"
        for c in (admin, k1, k2):
            await c.stop()

    asyncio.run(scenario())


def test_generated_acl_file_names_every_device(tmp_path):
    fleet, _ = _fleet()
    paths = write_mosquitto_config(fleet, tmp_path)
    acl = (tmp_path / "acl").read_text()
    for device in fleet.devices:
        assert f"user {device.id}" in acl
    assert "topic read hall/v1/group/lobby/desired" in acl
    assert (tmp_path / "passwd").stat().st_mode & 0o007 == 0, "the password file is not world-readable"
    assert {p.name for p in paths} == {"mosquitto.conf", "passwd", "acl"}
