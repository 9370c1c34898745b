"""Provisioning a device: credentials in the shared fleet list (fleet.yaml,
read by the broker and the Mosquitto config generator), a row in the admin's
database, and the config the device needs (printed once: the password is
stored only as hashes)."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading

from sqlalchemy.orm import Session

from admin.models import Device, DeviceGroup
from admin.settings import AdminSettings

_fleet_lock = threading.Lock()
KINDS = ("kiosk", "vrhall", "robot")


class ProvisionError(ValueError):
    pass


def provision_device(session: Session, settings: AdminSettings, *, device_id: str, kind: str,
                     groups: list[str], name: str = "") -> tuple[Device, dict[str, str]]:
    from broker.fleet import Fleet, FleetError
    from broker.messages.base import SEGMENT_PATTERN
    from broker.provision import Identity, ensure_signing_key, env_lines

    if kind not in KINDS:
        raise ProvisionError(f"未知设备类型 {kind!r}，可选：{', '.join(KINDS)}")
    for value in (device_id, *groups):
        if not re.fullmatch(SEGMENT_PATTERN, value):
            raise ProvisionError(f"{value!r} 只能包含字母、数字、点、下划线和减号")
    public_key = ensure_signing_key(settings)
    with _fleet_lock:
        fleet = Fleet.load(settings.fleet_file)
        try:
            _, password = fleet.provision(device_id, kind=kind, groups=groups)
        except FleetError as exc:
            raise ProvisionError(str(exc)) from exc
        fleet.save(settings.fleet_file)
    for group in groups:
        if session.get(DeviceGroup, group) is None:
            session.add(DeviceGroup(name=group))
    device = session.get(Device, device_id) or Device(id=device_id)
    device.kind, device.groups, device.name = kind, list(groups), name or device.name or device_id
    device.mqtt_password_sha256 = hashlib.sha256(password.encode("utf-8")).hexdigest()
    session.add(device)
    env = env_lines(settings, Identity(device_id, kind, tuple(groups)), password, public_key)
    return device, env


def check_device_password(session: Session, settings: AdminSettings, *, device_id: str, password: str) -> bool:
    """HTTP uploads from a device (screenshots) use its MQTT credentials."""
    device = session.get(Device, device_id)
    if device is None or not device.mqtt_password_sha256:
        return _check_fleet(session, settings, device_id, password)
    digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
    return hmac.compare_digest(digest, device.mqtt_password_sha256)


def _check_fleet(session: Session, settings: AdminSettings, device_id: str, password: str) -> bool:
    """Devices provisioned by `hall up` exist only in fleet.yaml (argon2 hash)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    from broker.fleet import Fleet

    record = Fleet.load(settings.fleet_file).get(device_id)
    if record is None or not record.argon2_hash:
        return False
    try:
        PasswordHasher().verify(record.argon2_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    device = session.get(Device, device_id)
    if device is not None:
        device.mqtt_password_sha256 = hashlib.sha256(password.encode("utf-8")).hexdigest()
        session.commit()
    return True
