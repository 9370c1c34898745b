"""The endpoint runtime over a real broker: alerts, commands, offline start."""

from __future__ import annotations

import asyncio
import time

from broker.client import HallClient
from broker.messages import AlertAck, CommandReply, DeviceCommand, EmergencyAlert
from content.endpoint import Endpoint
from content.signing import ManifestSigner


def _endpoint(broker, tmp_path, **kw) -> Endpoint:
    signer = ManifestSigner.generate()
    settings = broker.settings(data_dir=tmp_path, public_key=signer.public_key_b64)
    return Endpoint(settings, kind="kiosk", device_id="kiosk-1", groups=["lobby"], **kw)


async def until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def test_emergency_alert_takeover_ack_cancel_and_restore_after_restart(mqtt_broker, tmp_path):
    shown: list = []

    async def scenario():
        endpoint = _endpoint(mqtt_broker, tmp_path, on_alert=shown.append)
        admin = HallClient(mqtt_broker.settings(), client_id="admin", kind="admin", availability=False)
        acks: list = []

        async def on_ack(msg: AlertAck):
            acks.append((msg.alert_id, msg.state))

        admin.subscribe(AlertAck, on_ack)
        await admin.start()
        await endpoint.start()
        assert await endpoint.client.wait_connected(5) and await admin.wait_connected(5)

        alert = EmergencyAlert(site_id="test-site", group="all", title="紧急通知：请有序疏散",
                               expires_at=time.time() + 600)
        admin.publish(alert)
        assert await until(lambda: (alert.alert_id, "shown") in acks)
        assert endpoint.alert is not None and endpoint.alert.title == alert.title
        await endpoint.stop()

        # restart with the broker unreachable: the takeover comes back from disk
        offline = Endpoint(mqtt_broker.settings(data_dir=tmp_path, public_key=endpoint.settings.public_key,
                                                mqtt_port=1), kind="kiosk", device_id="kiosk-1", groups=["lobby"])
        await offline.start()
        assert offline.alert is not None and offline.alert.alert_id == alert.alert_id
        await offline.stop()

        endpoint2 = _endpoint(mqtt_broker, tmp_path, on_alert=shown.append)
        await endpoint2.start()
        assert await endpoint2.client.wait_connected(5)
        admin.publish(alert.model_copy(update={"cancelled": True, "ts": time.time()}))
        assert await until(lambda: (alert.alert_id, "cleared") in acks)
        assert endpoint2.alert is None
        await endpoint2.stop()
        await admin.stop()

    asyncio.run(scenario())
    assert shown[0].title.startswith("紧急通知") and shown[-1] is None


def test_alert_clears_by_itself_on_expiry(mqtt_broker, tmp_path):
    async def scenario():
        endpoint = _endpoint(mqtt_broker, tmp_path)
        admin = HallClient(mqtt_broker.settings(), client_id="admin", kind="admin", availability=False)
        await admin.start()
        await endpoint.start()
        assert await endpoint.client.wait_connected(5) and await admin.wait_connected(5)
        admin.publish(EmergencyAlert(site_id="test-site", group="lobby", title="短时通知",
                                     expires_at=time.time() + 1.5))
        assert await until(lambda: endpoint.alert is not None)
        assert await until(lambda: endpoint.alert is None, 6)
        await endpoint.stop()
        await admin.stop()

    asyncio.run(scenario())


def test_commands_reply_and_refuse_expired_or_unknown(mqtt_broker, tmp_path):
    async def scenario():
        endpoint = _endpoint(mqtt_broker, tmp_path)
        endpoint.commands["show_item"] = lambda cmd: {"shown": cmd.args["item_id"]}
        admin = HallClient(mqtt_broker.settings(), client_id="admin", kind="admin", availability=False)
        replies: dict[str, CommandReply] = {}

        async def on_reply(msg):
            replies[msg.request_id] = msg

        admin.subscribe(CommandReply, on_reply)
        await admin.start()
        await endpoint.start()
        assert await endpoint.client.wait_connected(5) and await admin.wait_connected(5)
        ok = DeviceCommand(site_id="test-site", device_id="kiosk-1", command="show_item", args={"item_id": "n1"})
        stale = DeviceCommand(site_id="test-site", device_id="kiosk-1", command="restart", expires_at=time.time() - 1)
        unknown = DeviceCommand(site_id="test-site", device_id="kiosk-1", command="screenshot")
        broken = DeviceCommand(site_id="test-site", device_id="kiosk-1", command="show_item", args={})
        for cmd in (ok, stale, unknown, broken):
            admin.publish(cmd)
        assert await until(lambda: len(replies) == 4)
        assert replies[ok.request_id].ok and replies[ok.request_id].result == {"shown": "n1"}
        assert not replies[stale.request_id].ok and "过期" in replies[stale.request_id].error
        assert not replies[unknown.request_id].ok and "不支持" in replies[unknown.request_id].error
        assert not replies[broken.request_id].ok, "a failing handler answers with an error and the loop goes on"
        await endpoint.stop()
        await admin.stop()

    asyncio.run(scenario())
