"""Manifest encoding and Ed25519 signing: round trip, tamper, foreign key."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from content.errors import ManifestError
from content.model import Exhibit, FaqEntry, Manifest, Playlist, PlaylistEntry, Schedule
from content.signing import (
    ManifestSigner,
    decode_manifest,
    encode_manifest,
    load_public_key,
    sha256_hex,
    verify_signature,
)


def _manifest() -> Manifest:
    return Manifest(
        site_id="site-1", group="lobby", version=3, created_at=1700000000.5,
        items=[
            Exhibit(id="ex-1921", title="中共一大", year=1921, caption="上海兴业路76号", aliases=["一大会址"]),
            FaqEntry(id="faq-1", title="开放时间", questions=["几点开门？", "开放时间是什么？"], answer="上午九点。"),
        ],
        playlists=[Playlist(id="loop", name="默认轮播", entries=[PlaylistEntry(item_id="ex-1921")])],
        schedule=Schedule(default_playlist_id="loop"),
    )


def test_encoding_is_canonical_and_round_trips() -> None:
    manifest = _manifest()
    data = encode_manifest(manifest)
    assert "中共一大".encode() in data  # UTF-8, not \u escapes
    assert b": " not in data and b", " not in data
    decoded = decode_manifest(data)
    assert decoded == manifest
    assert encode_manifest(decoded) == data


def test_sign_and_verify_round_trip() -> None:
    signer = ManifestSigner.generate()
    data = encode_manifest(_manifest())
    signature = signer.sign(data)
    verify_signature(data, signature, load_public_key(signer.public_key_b64))


def test_tampered_manifest_is_refused() -> None:
    signer = ManifestSigner.generate()
    data = encode_manifest(_manifest())
    signature = signer.sign(data)
    tampered = data.replace("上午九点".encode(), "上午十点".encode())
    assert tampered != data
    with pytest.raises(ManifestError, match="signature"):
        verify_signature(tampered, signature, signer.public_key)


def test_flipped_signature_bit_is_refused() -> None:
    signer = ManifestSigner.generate()
    data = encode_manifest(_manifest())
    raw = bytearray(base64.b64decode(signer.sign(data)))
    raw[10] ^= 0x01
    with pytest.raises(ManifestError):
        verify_signature(data, base64.b64encode(bytes(raw)).decode(), signer.public_key)


def test_foreign_key_is_refused() -> None:
    ours, theirs = ManifestSigner.generate(), ManifestSigner.generate()
    data = encode_manifest(_manifest())
    with pytest.raises(ManifestError, match="another key"):
        verify_signature(data, theirs.sign(data), ours.public_key)


@pytest.mark.parametrize("signature", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_malformed_signature_is_refused(signature: str) -> None:
    signer = ManifestSigner.generate()
    with pytest.raises(ManifestError):
        verify_signature(b"{}", signature, signer.public_key)


def test_key_save_load_and_public_key_forms(tmp_path) -> None:
    signer = ManifestSigner.generate()
    key_path = tmp_path / "keys" / "manifest.pem"
    signer.save(key_path)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    loaded = ManifestSigner.load(key_path)
    assert loaded.public_key_b64 == signer.public_key_b64
    data = b"payload"
    signature = loaded.sign(data)

    b64_file = tmp_path / "public.b64"
    b64_file.write_text(signer.public_key_b64 + "\n")
    pem_file = tmp_path / "public.pem"
    from cryptography.hazmat.primitives import serialization
    pem_file.write_bytes(signer.public_key.public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    for form in (signer.public_key_b64, str(b64_file), b64_file, str(pem_file)):
        verify_signature(data, signature, load_public_key(form))
    assert ManifestSigner.load_or_create(key_path).public_key_b64 == signer.public_key_b64


def test_bad_public_key_and_private_key_files(tmp_path) -> None:
    with pytest.raises(ManifestError):
        load_public_key(str(tmp_path / "missing.key"))
    junk = tmp_path / "junk"
    junk.write_text("hello")
    with pytest.raises(ManifestError):
        load_public_key(str(junk))
    with pytest.raises(ManifestError):
        ManifestSigner.load(junk)


@pytest.mark.parametrize("data, reason", [
    (b"\xff\xfe", "UTF-8"),
    (b"{not json", "JSON"),
    (b"[1, 2]", "object"),
    (b'{"site_id": "s"}', "invalid"),
    (b'{"format": 2, "site_id": "s", "group": "g", "version": 1, "created_at": 0}', "invalid"),
])
def test_decode_rejects_bad_bytes_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        decode_manifest(data)


def test_decode_keeps_good_items_when_one_is_broken(caplog) -> None:
    good = encode_manifest(_manifest())
    broken = good.replace(b'"kind":"faq"', b'"kind":"hologram"')
    manifest = decode_manifest(broken)
    assert [item.id for item in manifest.items] == ["ex-1921"]
    assert "faq-1" in caplog.text


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
