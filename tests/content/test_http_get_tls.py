"""Devices fetch from an HTTPS admin: the small GET client over TLS, trusting
the site's local CA (`hall broker make-ca`), refusing a server it cannot
verify; an endpoint takes the CA from its settings."""

from __future__ import annotations

import asyncio

import pytest

from admin.media import MediaServer
from broker.tls import make_ca
from content.http_get import HttpGetClient, HttpGetError, tls_context
from content.store import MediaStore


@pytest.fixture
def https_media(tmp_path):
    tls = make_ca(tmp_path / "tls", hosts=["127.0.0.1", "localhost"])
    store = MediaStore(tmp_path / "store")
    sha = store.put_bytes(b'{"manifest": "over tls"}')
    server = MediaServer(store, tls_cert=str(tls["cert"]), tls_key=str(tls["key"])).start()
    yield server, sha, tls
    server.stop()


def test_get_over_tls_trusting_the_local_ca(https_media):
    server, sha, tls = https_media
    assert server.url.startswith("https://")

    async def scenario():
        client = HttpGetClient(timeout=10, ssl_context=tls_context(str(tls["ca"])))
        for _ in range(2):  # the second request reuses the TLS connection
            async with client.get(f"{server.url}/media/{sha}") as response:
                assert response.status == 200 and await response.read() == b'{"manifest": "over tls"}'
        assert sum(len(pool) for pool in client._idle.values()) == 1
        await client.aclose()

    asyncio.run(scenario())


def test_a_server_outside_the_trusted_ca_is_refused(https_media, tmp_path):
    server, sha, _ = https_media
    other = make_ca(tmp_path / "other-ca", hosts=["127.0.0.1"])

    async def fetch(context):
        client = HttpGetClient(timeout=10, ssl_context=context)
        try:
            async with client.get(f"{server.url}/media/{sha}") as response:
                return response.status
        finally:
            await client.aclose()

    for context in (tls_context(str(other["ca"])), None):  # another site's CA; the system's store
        with pytest.raises(HttpGetError, match="TLS"):
            asyncio.run(fetch(context))


def test_endpoint_uses_the_configured_ca_and_explains_a_missing_one(tmp_path, https_media):
    from broker.settings import HallSettings
    from content.endpoint import Endpoint, EndpointError
    from content.signing import ManifestSigner

    _, _, tls = https_media
    key = ManifestSigner.generate().public_key_b64
    base = dict(_env_file=None, data_dir=tmp_path / "d", device_id="kiosk-tls", groups=["lobby"], public_key=key,
                admin_url="https://127.0.0.1:8443")
    endpoint = Endpoint(HallSettings(**base, mqtt_tls_ca=tls["ca"]), kind="kiosk")
    assert endpoint._http.ssl_context is tls_context(str(tls["ca"]))
    with pytest.raises(EndpointError, match="CA"):
        Endpoint(HallSettings(**base, admin_tls_ca=tmp_path / "missing.crt"), kind="kiosk")
