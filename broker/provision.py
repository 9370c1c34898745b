"""Local identities for a one-machine site (the demo, `hall up`): the manifest
signing key, the fleet with per-device credentials, and ``credentials/<id>.env``
files that each process reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .fleet import Fleet
from .settings import HallSettings

CLI_IDENTITY = "hall-cli"
ADMIN_IDENTITY = "admin"


@dataclass(frozen=True)
class Identity:
    id: str
    kind: str
    groups: tuple[str, ...] = ()


def demo_identities(kiosks: int = 2, halls: int = 1, robots: int = 1) -> list[Identity]:
    ids = [Identity(ADMIN_IDENTITY, "admin"), Identity(CLI_IDENTITY, "bench")]
    ids += [Identity(f"kiosk-{i}", "kiosk", ("lobby",)) for i in range(1, kiosks + 1)]
    ids += [Identity(f"hall-{i}", "vrhall", ("hall",)) for i in range(1, halls + 1)]
    ids += [Identity(f"robot-{i}", "robot", ("robots",)) for i in range(1, robots + 1)]
    return ids


def ensure_signing_key(settings: HallSettings) -> str:
    """Create the Ed25519 manifest key once; returns the public key (base64)."""
    from content.signing import ManifestSigner  # cryptography only where needed

    signer = ManifestSigner.load_or_create(settings.signing_key_file)
    public = signer.public_key_b64
    settings.public_key_file.parent.mkdir(parents=True, exist_ok=True)
    settings.public_key_file.write_text(public + "\n", encoding="utf-8")
    return public


def env_lines(settings: HallSettings, identity: Identity, password: str, public_key: str) -> dict[str, str]:
    groups = "[" + ",".join(f'"{g}"' for g in identity.groups) + "]"
    return {
        "HALL_SITE_ID": settings.site_id,
        "HALL_DATA_DIR": str(settings.data_dir.resolve()),
        "HALL_MQTT_HOST": settings.mqtt_host,
        "HALL_MQTT_PORT": str(settings.mqtt_port),
        "HALL_MQTT_USERNAME": identity.id,
        "HALL_MQTT_PASSWORD": password,
        "HALL_ADMIN_URL": settings.admin_url,
        "HALL_PUBLIC_KEY": public_key,
        "HALL_DEVICE_ID": identity.id,
        "HALL_GROUPS": groups,
    }


def write_env(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(f"{k}={v}\n" for k, v in values.items()))


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def ensure_identities(settings: HallSettings, identities: list[Identity]) -> dict[str, dict[str, str]]:
    """Provision what is missing (keeping existing passwords) and return each
    identity's environment. Connection settings are refreshed every time."""
    public_key = ensure_signing_key(settings)
    fleet = Fleet.load(settings.fleet_file)
    envs: dict[str, dict[str, str]] = {}
    changed = False
    for ident in identities:
        path = settings.credentials_dir / f"{ident.id}.env"
        record = fleet.get(ident.id)
        password = read_env(path).get("HALL_MQTT_PASSWORD") if path.exists() else None
        # A record from before the EMQX hash existed is re-hashed from the password we hold.
        if (record is None or password is None or record.kind != ident.kind
                or tuple(record.groups) != ident.groups or not record.emqx_hash):
            _, password = fleet.provision(ident.id, kind=ident.kind, groups=list(ident.groups), password=password)
            changed = True
        envs[ident.id] = env_lines(settings, ident, password, public_key)
        write_env(path, envs[ident.id])
    if changed:
        fleet.save(settings.fleet_file)
    return envs


def settings_for(settings: HallSettings, identity_id: str) -> HallSettings:
    """Settings of a local identity (e.g. the CLI's), from its credentials file."""
    path = settings.credentials_dir / f"{identity_id}.env"
    if not path.exists():
        return settings
    env = read_env(path)
    return settings.model_copy(update={
        "mqtt_host": env.get("HALL_MQTT_HOST", settings.mqtt_host),
        "mqtt_port": int(env.get("HALL_MQTT_PORT", settings.mqtt_port)),
        "mqtt_username": env.get("HALL_MQTT_USERNAME"), "mqtt_password": env.get("HALL_MQTT_PASSWORD"),
        "admin_url": env.get("HALL_ADMIN_URL", settings.admin_url),
        "public_key": env.get("HALL_PUBLIC_KEY", settings.public_key)})
