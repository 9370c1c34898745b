"""HallClient with its socket on the event loop (``network="asyncio"``, what the
fleet simulator runs 500 clients per process with): the same behaviour as with
paho's thread, over real Mosquitto, including a broker killed and restarted."""

from __future__ import annotations

import asyncio
import threading

from broker.bench_push import _start_broker
from broker.client import HallClient
from broker.messages import Availability, DesiredState
from tests.conftest import BrokerInfo, free_port

SHA = "cd" * 32


def desired(version: int) -> DesiredState:
    return DesiredState(site_id="test-site", group="lobby", version=version, manifest_sha256=SHA,
                        manifest_url=f"http://x/media/{SHA}", signature="c2ln", published_at=1.0)


async def until(predicate, timeout: float = 15.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


def test_asyncio_network_pubsub_will_and_reconnect_after_broker_kill(tmp_path):
    port = free_port()
    broker = _start_broker("mosquitto", port, tmp_path)
    info = BrokerInfo("mosquitto", "127.0.0.1", port)

    async def scenario():
        nonlocal broker
        threads_before = threading.active_count()
        admin = HallClient(info.settings(), client_id="admin", kind="admin", availability=False)
        kiosks = [HallClient(info.settings(), client_id=f"kiosk-{i}", kind="kiosk", groups=["lobby"],
                             network="asyncio", reconnect_min=0.2, reconnect_max=1) for i in range(20)]
        seen: dict[str, list[int]] = {k.client_id: [] for k in kiosks}
        states: dict[str, str] = {}

        async def on_availability(msg: Availability) -> None:
            states[msg.device_id] = msg.state

        admin.subscribe(Availability, on_availability)
        await admin.start()
        assert await admin.wait_connected(10)
        for kiosk in kiosks:
            async def on_desired(msg, name=kiosk.client_id):
                seen[name].append(msg.version)

            kiosk.subscribe(DesiredState, on_desired, group="lobby")
            await kiosk.start()
        assert all([await k.wait_connected(10) for k in kiosks])
        # paho threads would add one per client; here only the admin's and the
        # loop's small executor pool (used to connect) appear
        assert threading.active_count() - threads_before < len(kiosks) // 2, threading.enumerate()
        assert await until(lambda: all(states.get(k.client_id) == "online" for k in kiosks))

        admin.publish(desired(1))
        assert await until(lambda: all(v[-1:] == [1] for v in seen.values())), seen

        broker.kill()
        broker.wait(10)
        assert await until(lambda: not any(k.connected for k in kiosks), timeout=10)
        broker = _start_broker("mosquitto", port, tmp_path)
        assert all([await k.wait_connected(20) for k in kiosks]), "every client reconnected by itself"
        assert await admin.wait_connected(20)
        admin.publish(desired(2))
        assert await until(lambda: all(v[-1:] == [2] for v in seen.values())), seen

        await kiosks[0].stop()  # a clean stop announces offline (retained)
        assert await until(lambda: states.get("kiosk-0") == "offline")
        for kiosk in kiosks[1:]:
            await kiosk.stop()
        await admin.stop()

    try:
        asyncio.run(scenario())
    finally:
        broker.kill()
        broker.wait(10)
