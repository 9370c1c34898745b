"""Kiosk configuration: what one terminal is and how it draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LANDSCAPE = (1920, 1080)
PORTRAIT = (1080, 1920)


@dataclass
class KioskConfig:
    device_id: str = "kiosk-1"
    site_id: str = "demo-site"
    portrait: bool = False
    headless: bool = False
    fullscreen: bool = False
    data_dir: Path = Path("var/devices/kiosk-1")
    theme_path: Path | None = None
    idle_s: float | None = None          # None: theme / manifest settings decide
    groups: list[str] = field(default_factory=list)
    admin_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Shanghai"

    @property
    def size(self) -> tuple[int, int]:
        return PORTRAIT if self.portrait else LANDSCAPE
