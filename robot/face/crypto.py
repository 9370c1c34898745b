"""Keys and authenticated encryption for face data.

One 32-byte master key from configuration (never stored beside the data) is
stretched with HKDF into an AES-256-GCM key for the records and an HMAC key
that turns member ids into opaque lookup handles, so the vault file reveals
neither who is enrolled nor their embeddings without the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import VaultError

KEY_BYTES = 32
NONCE_BYTES = 12


class DecryptError(Exception):
    """A record that does not decrypt: corrupt, tampered, moved, or another key."""


def generate_key() -> str:
    """A new master key as url-safe base64 (what HALL_FACE_VAULT_KEY holds)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(text: str) -> bytes:
    text = text.strip()
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            raw = decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == KEY_BYTES:
            return raw
    raise VaultError("人脸库密钥格式错误: 需要 32 字节的 base64 (可用 `hall robot face new-key` 生成)")


def load_master_key(*, key: str | None, key_file: Path | None, data_dir: Path) -> bytes:
    """The master key from the setting or its file; refuses a key kept inside ``data_dir``."""
    if key:
        return parse_key(key)
    if key_file is None:
        raise VaultError("未配置人脸库密钥 (HALL_FACE_VAULT_KEY 或 HALL_FACE_VAULT_KEY_FILE)")
    key_path = Path(key_file).resolve()
    if key_path.is_relative_to(Path(data_dir).resolve()):
        raise VaultError(f"密钥文件不能放在人脸库目录内: {key_path}")
    try:
        return parse_key(key_path.read_text("ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        raise VaultError(f"无法读取人脸库密钥文件 {key_path}: {exc}") from exc


class RecordCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise VaultError("人脸库密钥必须是 32 字节")
        self._aead = AESGCM(_derive(master_key, b"dangjian-hall face records v1"))
        self._mac_key = _derive(master_key, b"dangjian-hall face member handle v1")

    def handle(self, member_id: str) -> str:
        """Opaque, stable lookup handle of a member id."""
        return hmac.new(self._mac_key, member_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """nonce || ciphertext+tag; ``context`` binds the record to its row (not secret)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        if not isinstance(sealed, (bytes, bytearray)) or len(sealed) < NONCE_BYTES + 16:
            raise DecryptError("record too short")
        try:
            return self._aead.decrypt(bytes(sealed[:NONCE_BYTES]), bytes(sealed[NONCE_BYTES:]), context)
        except InvalidTag as exc:
            raise DecryptError("authentication failed") from exc


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)
