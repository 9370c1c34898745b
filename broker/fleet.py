"""The device list (fleet.yaml in the data directory) and credentials.

Passwords are stored only as hashes here; the plaintext goes once into the
device's own config (what `hall admin add-device` prints). The embedded
broker reads argon2 hashes; Mosquitto and EMQX each need their own PBKDF2
format, so we keep one hash per broker per device.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from argon2 import PasswordHasher

from .acl import topic_rules, TopicRules

KINDS = ("kiosk", "vrhall", "robot", "admin", "bench")


class FleetError(ValueError):
    pass


@dataclass
class DeviceRecord:
    id: str
    kind: str
    groups: list[str] = field(default_factory=list)
    argon2_hash: str = ""
    mosquitto_hash: str = ""
    emqx_hash: str = ""

    def rules(self) -> TopicRules:
        return topic_rules(device_id=self.id, kind=self.kind, groups=self.groups)


def mosquitto_hash(password: str, *, iterations: int = 101, salt: bytes | None = None) -> str:
    """Mosquitto 2's ``$7$`` format: PBKDF2-HMAC-SHA512, base64 salt and hash."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


# EMQX configures one iteration count for the whole authenticator, not per
# user; 4,096 is its own default for pbkdf2.
EMQX_PBKDF2_ITERATIONS = 4096
EMQX_PBKDF2_MAC = "sha512"
_EMQX_PREFIX = f"pbkdf2-{EMQX_PBKDF2_MAC}"


def emqx_hash(password: str, *, salt: str | None = None, iterations: int = EMQX_PBKDF2_ITERATIONS) -> str:
    """``pbkdf2-sha512$<iterations>$<salt>$<hex digest>``. EMQX's pbkdf2 takes
    the salt column's text as the salt bytes, so the salt is 32 hex characters."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac(EMQX_PBKDF2_MAC, password.encode("utf-8"), salt.encode("ascii"), iterations)
    return f"{_EMQX_PREFIX}${iterations}${salt}${digest.hex()}"


def parse_emqx_hash(value: str) -> tuple[int, str, str]:
    """(iterations, salt, hex digest) of a stored EMQX hash; FleetError if malformed."""
    parts = value.split("$")
    if len(parts) != 4 or parts[0] != _EMQX_PREFIX or not parts[1].isdigit():
        raise FleetError(f"不是 EMQX 密码哈希: {value[:24]!r}")
    return int(parts[1]), parts[2], parts[3]


def new_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class Fleet:
    devices: list[DeviceRecord] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> "Fleet":
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        try:
            return cls(devices=[DeviceRecord(**d) for d in data.get("devices", [])])
        except TypeError as exc:
            raise FleetError(f"{path}: 设备清单格式错误: {exc}") from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump({"devices": [asdict(d) for d in self.devices]}, allow_unicode=True, sort_keys=False)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, 0o600)
        os.replace(tmp.name, path)

    def get(self, device_id: str) -> DeviceRecord | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def provision(self, device_id: str, *, kind: str, groups: list[str], password: str | None = None) -> tuple[DeviceRecord, str]:
        """Add or re-key a device. Returns the record and its new plaintext password."""
        if kind not in KINDS:
            raise FleetError(f"未知设备类型 {kind!r}，可选: {', '.join(KINDS)}")
        password = password or new_password()
        record = DeviceRecord(id=device_id, kind=kind, groups=list(groups),
                              argon2_hash=PasswordHasher().hash(password), mosquitto_hash=mosquitto_hash(password),
                              emqx_hash=emqx_hash(password))
        self.devices = [d for d in self.devices if d.id != device_id] + [record]
        return record, password

    def remove(self, device_id: str) -> bool:
        before = len(self.devices)
        self.devices = [d for d in self.devices if d.id != device_id]
        return len(self.devices) != before
