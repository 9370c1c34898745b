"""One settings class for every process (pydantic-settings, env prefix HALL_).

A device reads its identity and credentials from the environment or from the
file named by HALL_ENV_FILE (what `hall admin add-device` prints). Processes
that need more (the admin) subclass it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class SettingsError(ValueError):
    pass


class HallSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HALL_",
        env_file=os.environ.get("HALL_ENV_FILE", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Literal["development", "production"] = "development"
    site_id: str = "demo-site"
    data_dir: Path = DEFAULT_DATA_DIR

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_tls_ca: Path | None = None
    mqtt_keepalive: int = 30
    # "thread": paho's network thread (publish from any thread); "asyncio": the
    # socket on the process's event loop, for a process running hundreds of clients.
    mqtt_network: Literal["thread", "asyncio"] = "thread"

    admin_url: str = "http://127.0.0.1:8000"
    # The CA that signed the admin's HTTPS certificate (an https:// admin_url);
    # unset: the MQTT CA (one local CA per site, `hall broker make-ca`), else the system's.
    admin_tls_ca: Path | None = None
    # Base64 raw Ed25519 public key, or a path to a file holding it.
    public_key: str | None = None

    device_id: str | None = None
    groups: list[str] = Field(default_factory=list)

    @property
    def http_ca_file(self) -> Path | None:
        """The CA file devices trust for the admin's HTTPS (see ``admin_tls_ca``)."""
        return self.admin_tls_ca or self.mqtt_tls_ca

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "HallSettings":
        if self.environment == "production":
            if not self.mqtt_username or not self.mqtt_password:
                raise SettingsError("生产模式必须配置 MQTT 用户名和密码 (HALL_MQTT_USERNAME / HALL_MQTT_PASSWORD)")
            if not self.public_key:
                raise SettingsError("生产模式必须配置清单公钥 (HALL_PUBLIC_KEY)")
        return self

    # -- data directory layout, shared by every process on one machine ---------
    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def fleet_file(self) -> Path:
        return self.data_dir / "fleet.yaml"

    @property
    def signing_key_file(self) -> Path:
        """Ed25519 private key; only the admin machine has it."""
        return self.keys_dir / "manifest_ed25519.pem"

    @property
    def public_key_file(self) -> Path:
        return self.keys_dir / "manifest_ed25519.pub"

    @property
    def media_dir(self) -> Path:
        """The admin's content-addressed media store."""
        return self.data_dir / "media"

    @property
    def credentials_dir(self) -> Path:
        """``<id>.env`` files with each local identity's MQTT credentials (mode 0600)."""
        return self.data_dir / "credentials"

    def device_dir(self, device_id: str) -> Path:
        return self.data_dir / "devices" / device_id
