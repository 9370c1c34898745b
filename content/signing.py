"""Manifest bytes and their Ed25519 signature.

The manifest travels as canonical JSON so that its sha256 names it and the
signature covers exactly the bytes a device downloads: sorted keys, no
whitespace, UTF-8 (Chinese text kept readable, not \\u-escaped).
Re-encoding decoded bytes gives the same bytes, so the admin can rebuild a
manifest and get the same hash (republishing the same content is a no-op).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from .errors import ManifestError
from .model import Manifest

# A manifest bigger than this is a mistake or an attack, not content.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def encode_manifest(manifest: Manifest) -> bytes:
    """Canonical JSON bytes of a manifest (what is hashed, signed and served)."""
    return _canonical(manifest.model_dump(mode="json"))


def decode_manifest(data: bytes) -> Manifest:
    """Parse manifest bytes; raises ``ManifestError`` saying what is wrong."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"manifest too large: {len(data)} bytes")
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(f"manifest is not UTF-8: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(f"manifest is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ManifestError("manifest is not a JSON object")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ManifestError(f"manifest is invalid at {where or '<root>'}: {first.get('msg')}") from exc


# -- keys -------------------------------------------------------------------------

class ManifestSigner:
    """The admin's private signing key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key

    @classmethod
    def generate(cls) -> "ManifestSigner":
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | Path) -> "ManifestSigner":
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ManifestError(f"cannot load signing key {path}: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ManifestError(f"signing key {path} is not an Ed25519 key")
        return cls(key)

    @classmethod
    def load_or_create(cls, path: str | Path) -> "ManifestSigner":
        """The key at ``path``; a new one saved there when it does not exist yet."""
        path = Path(path)
        if path.exists():
            return cls.load(path)
        signer = cls.generate()
        signer.save(path)
        return signer

    def save(self, path: str | Path) -> None:
        """Write the PEM private key readable by its owner only (0600), atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        tmp = path.with_name(f".{path.name}.tmp")
        # Create with 0600 from the start: never a moment where the key is world-readable.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._key.sign(data)).decode("ascii")

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    @property
    def public_key_b64(self) -> str:
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")


def _public_from_text(text: str) -> Ed25519PublicKey | None:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError as exc:
            raise ManifestError(f"bad PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ManifestError("public key is not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32:
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


def load_public_key(value: str | Path | Ed25519PublicKey) -> Ed25519PublicKey:
    """A verification key from base64 of the raw 32 bytes, or from a file that
    holds that base64 or a PEM public key."""
    if isinstance(value, Ed25519PublicKey):
        return value
    if isinstance(value, str):
        key = _public_from_text(value)
        if key is not None:
            return key
    path = Path(value)
    try:
        text = path.read_text("ascii")
    except (OSError, ValueError) as exc:
        raise ManifestError(f"public key is neither base64 of 32 bytes nor a readable file: {exc}") from exc
    key = _public_from_text(text)
    if key is None:
        raise ManifestError(f"file {path} does not hold an Ed25519 public key")
    return key


def verify_signature(data: bytes, signature_b64: str, public_key: Ed25519PublicKey | str) -> None:
    """Raise ``ManifestError`` unless ``signature_b64`` is the key's signature of ``data``."""
    key = load_public_key(public_key)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ManifestError("manifest signature is not base64") from exc
    if len(signature) != 64:
        raise ManifestError(f"manifest signature has {len(signature)} bytes, Ed25519 needs 64")
    try:
        key.verify(signature, data)
    except InvalidSignature as exc:
        raise ManifestError("manifest signature does not verify (tampered, or signed by another key)") from exc
