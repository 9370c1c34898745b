"""MQTT over TLS with the site's local CA, on Mosquitto."""

from __future__ import annotations

import asyncio

from broker.client import HallClient
from broker.fleet import Fleet
from broker.mosquitto_config import write_mosquitto_config
from broker.tls import make_ca
from tests.conftest import BrokerInfo, MosquittoProcess, free_port, wait_port


def test_client_connects_over_tls_with_the_local_ca_and_refuses_a_foreign_one(tmp_path):
    certs = make_ca(tmp_path / "tls", hosts=["127.0.0.1", "localhost"])
    other = make_ca(tmp_path / "other", hosts=["127.0.0.1"])
    fleet = Fleet()
    _, password = fleet.provision("kiosk-1", kind="kiosk", groups=["lobby"])
    plain, tls_port = free_port(), free_port()
    conf_dir = tmp_path / "mq"
    write_mosquitto_config(fleet, conf_dir, port=plain, tls_dir=tmp_path / "tls", run_as="root", persistence=False)
    conf = conf_dir / "mosquitto.conf"
    conf.write_text(conf.read_text().replace("listener 8883", f"listener {tls_port}"))
    broker = MosquittoProcess(conf, plain)
    broker.start()
    wait_port(tls_port)
    info = BrokerInfo("mosquitto", "127.0.0.1", tls_port, username="kiosk-1", password=password)

    async def connects(ca) -> bool:
        client = HallClient(info.settings(mqtt_tls_ca=ca), client_id="kiosk-1", kind="kiosk")
        await client.start()
        ok = await client.wait_connected(3)
        await client.stop()
        return ok

    try:
        assert asyncio.run(connects(certs["ca"]))
        assert not asyncio.run(connects(other["ca"])), "a server certificate from another CA is refused"
    finally:
        broker.stop()
