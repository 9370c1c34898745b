"""The signed gallery bundle a robot receives: the embeddings of the members
expected at its meetings, nothing more.

The admin packs it (``pack_bundle``) and signs it with the same Ed25519 key as
the manifests (``content.signing.ManifestSigner``); the robot fetches it over
HTTP (``fetch_bundle``), verifies the signature before it reads a byte of the
payload (``unpack_bundle``), checks expiry and model, and searches it.

Biometric data should not cross the intranet in clear, so the payload can be
sealed with AES-256-GCM under a per-robot key (``seal_key``). Encrypt, then
sign: the robot verifies the signature first and only then decrypts.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BundleError
from .gallery import Gallery, Member

FORMAT = "hall-face-gallery/1"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class GalleryBundle:
    site_id: str
    device_id: str | None
    created_at: float
    expires_at: float | None
    model: str
    metric: str
    threshold: float
    members: list[tuple[Member, list[np.ndarray]]]

    def to_gallery(self, *, threshold: float | None = None, min_margin: float = 0.0) -> Gallery:
        gallery = Gallery(model=self.model, metric=self.metric,
                          threshold=threshold if threshold is not None else self.threshold, min_margin=min_margin)
        for member, vectors in self.members:
            gallery.add(member, vectors)
        return gallery


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def pack_bundle(members: Iterable[tuple[Member, list[np.ndarray]]], *, signer, model: str, metric: str,
                threshold: float, site_id: str, device_id: str | None = None, ttl_seconds: float | None = None,
                seal_key: bytes | None = None, now: float | None = None) -> bytes:
    """Bundle bytes (JSON envelope) ready to serve over HTTP.

    ``signer`` is anything with ``sign(bytes) -> base64 str`` (``ManifestSigner``).
    """
    created = time.time() if now is None else now
    body = {
        "format": FORMAT, "site_id": site_id, "device_id": device_id, "created_at": created,
        "expires_at": None if ttl_seconds is None else created + ttl_seconds,
        "model": model, "metric": metric, "threshold": threshold,
        "members": [
            {"member_id": m.member_id, "name": m.name,
             "embeddings": [base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii") for v in vectors]}
            for m, vectors in members
        ],
    }
    payload = _canonical(body)
    envelope: dict[str, object] = {"format": FORMAT, "alg": "none", "nonce": ""}
    if seal_key is not None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        payload = AESGCM(seal_key).encrypt(nonce, payload, FORMAT.encode())
        envelope.update(alg="aes-256-gcm", nonce=base64.b64encode(nonce).decode("ascii"))
    envelope["payload"] = base64.b64encode(payload).decode("ascii")
    envelope["signature"] = signer.sign(_canonical(envelope))
    return _canonical(envelope)


def unpack_bundle(data: bytes, *, public_key, seal_key: bytes | None = None, expected_model: str | None = None,
                  now: float | None = None) -> GalleryBundle:
    """Verify and read a bundle; raises ``BundleError`` saying why it is refused."""
    from content.errors import ContentError
    from content.signing import verify_signature

    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"人脸库包过大: {len(data)} 字节")
    try:
        envelope = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"人脸库包不是 JSON: {exc}") from exc
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise BundleError("人脸库包格式不对")
    signature = envelope.pop("signature", None)
    if not isinstance(signature, str):
        raise BundleError("人脸库包没有签名")
    try:
        verify_signature(_canonical(envelope), signature, public_key)
    except ContentError as exc:
        raise BundleError(f"人脸库包签名无效: {exc}") from exc
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        if envelope["alg"] == "aes-256-gcm":
            if seal_key is None:
                raise BundleError("人脸库包已加密，但本机未配置解密密钥")
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            try:
                payload = AESGCM(seal_key).decrypt(base64.b64decode(envelope["nonce"]), payload, FORMAT.encode())
            except InvalidTag as exc:
                raise BundleError("人脸库包无法解密（密钥不对）") from exc
        elif envelope["alg"] != "none":
            raise BundleError(f"不支持的加密方式 {envelope['alg']!r}")
        body = json.loads(payload)
        members = []
        for entry in body["members"]:
            vectors = [np.frombuffer(base64.b64decode(v, validate=True), dtype="<f4").astype(np.float32)
                       for v in entry["embeddings"]]
            members.append((Member(str(entry["member_id"]), str(entry["name"])), vectors))
        bundle = GalleryBundle(site_id=body["site_id"], device_id=body.get("device_id"),
                               created_at=float(body["created_at"]), expires_at=body.get("expires_at"),
                               model=body["model"], metric=body["metric"], threshold=float(body["threshold"]),
                               members=members)
    except BundleError:
        raise
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise BundleError(f"人脸库包内容无效: {exc}") from exc
    current = time.time() if now is None else now
    if bundle.expires_at is not None and current >= bundle.expires_at:
        raise BundleError("人脸库包已过期")
    if expected_model is not None and bundle.model != expected_model:
        raise BundleError(f"人脸库包的模型 {bundle.model} 与本机 {expected_model} 不一致")
    return bundle


def fetch_bundle(url: str, *, public_key, seal_key: bytes | None = None, expected_model: str | None = None,
                 cache_file: Path | None = None, timeout: float = 10.0, headers: dict[str, str] | None = None,
                 client=None, ca_file: Path | None = None) -> GalleryBundle:
    """Download, verify and (optionally) cache a bundle. When the admin is
    unreachable, the last verified bundle in ``cache_file`` is used instead.
    ``ca_file``: the site CA an HTTPS admin's certificate is checked against."""
    import httpx

    try:
        if client is None:
            verify = str(ca_file) if ca_file else True
            response = httpx.get(url, timeout=timeout, headers=headers, verify=verify)
        else:
            response = client.get(url, timeout=timeout, headers=headers)
        response.raise_for_status()
        data = response.content
    except httpx.HTTPError as exc:
        if cache_file is not None and Path(cache_file).is_file():
            return unpack_bundle(Path(cache_file).read_bytes(), public_key=public_key, seal_key=seal_key,
                                 expected_model=expected_model)
        raise BundleError(f"无法下载人脸库包 {url}: {exc}") from exc
    bundle = unpack_bundle(data, public_key=public_key, seal_key=seal_key, expected_model=expected_model)
    if cache_file is not None:
        cache_file = Path(cache_file)
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(f".{cache_file.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, cache_file)
    return bundle


def members_for_device(meetings, device_id: str, *, now: float | None = None,
                       horizon_hours: float = 24.0) -> list[str]:
    """Member ids expected at the meetings this device checks in, from now to
    ``horizon_hours`` ahead (or still running): the robot gets no one else's face."""
    current = time.time() if now is None else now
    wanted: list[str] = []
    for meeting in meetings:
        if device_id not in meeting.check_in_devices:
            continue
        ends, starts = meeting.ends_at.timestamp(), meeting.starts_at.timestamp()
        if ends < current or starts > current + horizon_hours * 3600:
            continue
        wanted.extend(m for m in meeting.expected_members if m not in wanted)
    return wanted


# How a robot addresses a member who did not consent to their name being shown
# or spoken: the greeting stays polite and the name never leaves the admin.
ANONYMOUS_NAME = "党员同志"


def bundle_from_vault(vault, meetings, *, device_id: str, embedder, signer, site_id: str,
                      seal_key: bytes | None = None, ttl_seconds: float = 7 * 24 * 3600,
                      now: float | None = None, withhold_names: Iterable[str] = ()) -> bytes:
    """What the admin serves to one robot: its meetings' members, signed.

    ``withhold_names``: member ids whose name must not reach the device (no
    consent to display it); they are carried as ``ANONYMOUS_NAME``."""
    member_ids = members_for_device(meetings, device_id, now=now)
    found = vault.embeddings(embedder.name, member_ids)
    hidden = set(withhold_names)
    members = [(Member(member.member_id, ANONYMOUS_NAME) if member.member_id in hidden else member, vectors)
               for member, vectors in found.values()]
    return pack_bundle(members, signer=signer, model=embedder.name, metric=embedder.metric,
                       threshold=embedder.threshold, site_id=site_id, device_id=device_id,
                       ttl_seconds=ttl_seconds, seal_key=seal_key, now=now)


def robot_seal_key(config) -> bytes | None:
    """The key a robot opens sealed bundles with: ``bundle_key``, else ``vault_key``."""
    from .crypto import parse_key

    secret = config.bundle_key or config.vault_key
    return parse_key(secret.get_secret_value()) if secret else None


def device_seal_key(config, device_id: str) -> bytes | None:
    """Admin side: the seal key of one device from ``bundle_keys_dir/<device_id>.key``;
    None when no directory is configured or the device has no key (signed only)."""
    from .crypto import parse_key
    from .errors import VaultError

    if config.bundle_keys_dir is None:
        return None
    keys_dir = Path(config.bundle_keys_dir).resolve()
    if keys_dir.is_relative_to(Path(config.vault_dir).resolve()):
        raise VaultError(f"人脸库包密钥目录不能放在人脸库目录内: {keys_dir}")
    if not device_id.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise BundleError(f"设备编号不合法: {device_id!r}")
    path = keys_dir / f"{device_id}.key"
    try:
        return parse_key(path.read_text("ascii"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise VaultError(f"无法读取设备 {device_id} 的人脸库包密钥: {exc}") from exc


def bundle_url(admin_url: str, device_id: str) -> str:
    """Where the admin serves a device's bundle (``admin/routes/faces.py``)."""
    return f"{admin_url.rstrip('/')}/api/devices/{device_id}/face-bundle"
