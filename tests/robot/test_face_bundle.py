"""The signed gallery bundle: only the device's meeting members, Ed25519-signed,
optionally sealed, delivered over a real HTTP socket."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import threading

import numpy as np
import pytest

from content.model import Meeting
from content.signing import ManifestSigner
from robot.face.bundle import bundle_from_vault, fetch_bundle, members_for_device, pack_bundle, unpack_bundle
from robot.face.crypto import generate_key, parse_key
from robot.face.errors import BundleError
from robot.face.gallery import Member
from robot.face.vault import EmbeddingVault

TZ = dt.timezone(dt.timedelta(hours=8))
DLIB = type("Dlib", (), {"name": "dlib_resnet_v1", "metric": "euclidean", "threshold": 0.6})()


def _meeting(mid, members, devices, start):
    return Meeting(id=mid, title="支部党员大会", meeting_type="支部党员大会", branch_id="b1", place="一楼会议室",
                   starts_at=start, ends_at=start + dt.timedelta(hours=2), expected_members=members,
                   check_in_devices=devices)


def _vectors(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.1, 128).astype(np.float32) for _ in range(n)]


@pytest.fixture()
def vault(tmp_path):
    v = EmbeddingVault(tmp_path / "vault", parse_key(generate_key()))
    for i, vec in enumerate(_vectors(4)):
        v.enrol(f"m{i}", f"成员{i}", [vec], model="dlib_resnet_v1", consent=True)
    yield v
    v.close()


def test_bundle_holds_only_the_devices_members_and_verifies(vault):
    now = dt.datetime(2026, 7, 1, 9, 0, tzinfo=TZ)
    meetings = [
        _meeting("mt1", ["m0", "m1", "nobody"], ["robot-1"], now + dt.timedelta(hours=1)),
        _meeting("mt2", ["m2"], ["robot-2"], now + dt.timedelta(hours=1)),
        _meeting("old", ["m3"], ["robot-1"], now - dt.timedelta(days=2)),
    ]
    assert members_for_device(meetings, "robot-1", now=now.timestamp()) == ["m0", "m1", "nobody"]
    signer = ManifestSigner.generate()
    data = bundle_from_vault(vault, meetings, device_id="robot-1", embedder=DLIB, signer=signer, site_id="s1",
                             now=now.timestamp())
    bundle = unpack_bundle(data, public_key=signer.public_key_b64, expected_model="dlib_resnet_v1",
                           now=now.timestamp())
    assert sorted(m.member_id for m, _ in bundle.members) == ["m0", "m1"]
    gallery = bundle.to_gallery()
    enrolled = vault.embeddings("dlib_resnet_v1")
    assert gallery.search(enrolled["m1"][1][0]).member.name == "成员1"
    assert gallery.search(enrolled["m2"][1][0]).member is None or \
        gallery.search(enrolled["m2"][1][0]).member.member_id != "m2"


def test_tampered_foreign_expired_and_sealed_bundles_are_refused():
    signer, other = ManifestSigner.generate(), ManifestSigner.generate()
    members = [(Member("m0", "张三"), _vectors(1))]
    data = pack_bundle(members, signer=signer, model="dlib_resnet_v1", metric="euclidean", threshold=0.6,
                       site_id="s1", ttl_seconds=60, now=1000.0)
    assert unpack_bundle(data, public_key=signer.public_key_b64, now=1001.0).members[0][0].name == "张三"
    with pytest.raises(BundleError, match="签名"):
        unpack_bundle(data, public_key=other.public_key_b64, now=1001.0)
    envelope = json.loads(data)
    envelope["payload"] = envelope["payload"][:-8] + "AAAAAAA="
    with pytest.raises(BundleError, match="签名"):
        unpack_bundle(json.dumps(envelope).encode(), public_key=signer.public_key_b64, now=1001.0)
    with pytest.raises(BundleError, match="过期"):
        unpack_bundle(data, public_key=signer.public_key_b64, now=2000.0)
    with pytest.raises(BundleError, match="模型"):
        unpack_bundle(data, public_key=signer.public_key_b64, now=1001.0, expected_model="opencv_sface")
    with pytest.raises(BundleError):
        unpack_bundle(b"{not json", public_key=signer.public_key_b64)

    seal = os.urandom(32)
    sealed = pack_bundle(members, signer=signer, model="dlib_resnet_v1", metric="euclidean", threshold=0.6,
                         site_id="s1", seal_key=seal)
    import base64

    sealed_payload = base64.b64decode(json.loads(sealed)["payload"])
    assert "张三".encode() not in sealed_payload and b"member_id" not in sealed_payload
    with pytest.raises(BundleError, match="加密"):
        unpack_bundle(sealed, public_key=signer.public_key_b64)
    with pytest.raises(BundleError, match="解密"):
        unpack_bundle(sealed, public_key=signer.public_key_b64, seal_key=os.urandom(32))
    opened = unpack_bundle(sealed, public_key=signer.public_key_b64, seal_key=seal)
    assert np.allclose(opened.members[0][1][0], members[0][1][0])


def test_fetch_over_http_with_cache_fallback(tmp_path):
    signer = ManifestSigner.generate()
    seal = os.urandom(32)
    data = pack_bundle([(Member("m0", "张三"), _vectors(2))], signer=signer, model="dlib_resnet_v1",
                       metric="euclidean", threshold=0.6, site_id="s1", seal_key=seal)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/face/bundle/robot-1"
    cache = tmp_path / "cache" / "gallery.bundle"
    try:
        bundle = fetch_bundle(url, public_key=signer.public_key_b64, seal_key=seal, cache_file=cache)
        assert len(bundle.members[0][1]) == 2 and cache.is_file()
        assert oct(cache.stat().st_mode & 0o777) == "0o600"
    finally:
        server.shutdown()
        server.server_close()
    # Admin away: the last verified bundle is used.
    again = fetch_bundle(url, public_key=signer.public_key_b64, seal_key=seal, cache_file=cache, timeout=1)
    assert again.members[0][0].name == "张三"
    with pytest.raises(BundleError, match="无法下载"):
        fetch_bundle(url, public_key=signer.public_key_b64, seal_key=seal, timeout=1)
