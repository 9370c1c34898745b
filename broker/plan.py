"""What `hall up` runs: one process per part, with its own identity."""

from __future__ import annotations

import shutil
import sys

from .provision import ADMIN_IDENTITY, demo_identities, ensure_identities
from .settings import HallSettings
from .supervisor import ProcessSpec

HALL = [sys.executable, "-m", "broker.cli"]


class PlanError(RuntimeError):
    pass


def build_plan(settings: HallSettings, *, demo: bool, headless: bool, kiosks: int, halls: int, robots: int,
               broker: str, admin_port: int) -> list[ProcessSpec]:
    identities = demo_identities(kiosks=kiosks, halls=halls, robots=robots)
    envs = ensure_identities(settings, identities)
    data = str(settings.data_dir.resolve())
    specs: list[ProcessSpec] = []

    if broker == "embedded":
        specs.append(ProcessSpec("broker", [*HALL, "broker", "--port", str(settings.mqtt_port)],
                                 env={"HALL_DATA_DIR": data}))
    elif broker == "mosquitto":
        from .fleet import Fleet
        from .mosquitto_config import write_mosquitto_config

        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not shutil.which(exe):
            raise PlanError("没有找到 mosquitto：apt-get install mosquitto，或使用 --broker embedded")
        conf_dir = settings.data_dir / "mosquitto"
        write_mosquitto_config(Fleet.load(settings.fleet_file), conf_dir, port=settings.mqtt_port)
        specs.append(ProcessSpec("broker", [exe, "-c", str(conf_dir / "mosquitto.conf")]))
    else:
        raise PlanError(f"未知消息服务器类型 {broker!r}：可选 embedded 或 mosquitto")

    face_env = {"HALL_FACE_VAULT_KEY_FILE": str(_demo_face_key(settings))} if demo else {}
    admin_args = [*HALL, "admin", "serve", "--port", str(admin_port)] + (["--demo"] if demo else [])
    specs.append(ProcessSpec("admin", admin_args, env={**envs[ADMIN_IDENTITY], **face_env}, start_delay=1.0))

    for ident in identities:
        if ident.kind == "kiosk":
            argv = [*HALL, "kiosk", "--device-id", ident.id] + (["--headless"] if headless else [])
        elif ident.kind == "vrhall":
            argv = [*HALL, "vrhall", "--device-id", ident.id] + (["--offscreen"] if headless else [])
        elif ident.kind == "robot":
            argv = [*HALL, "robot", "--device-id", ident.id]
        else:
            continue
        specs.append(ProcessSpec(ident.id, argv, env=envs[ident.id]))
    return specs


def _demo_face_key(settings: HallSettings):
    """The demo's face-vault key, so enrolment can be tried at once. A real site
    keeps this key off the data disk (HALL_FACE_VAULT_KEY_FILE on other storage)."""
    import os

    from robot.face.crypto import generate_key

    path = settings.keys_dir / "face-vault-demo.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(generate_key() + "\n")
    return path.resolve()
