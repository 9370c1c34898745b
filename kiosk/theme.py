"""The look of the kiosk, read from a theme file (colours, sizes, timings),
so a site can restyle its screens without touching code."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_THEME = Path(__file__).with_name("theme.json")
MIN_TOUCH = 80  # px: smallest comfortable target for a finger on a lobby screen


class ThemeError(ValueError):
    pass


def parse_color(text: str) -> tuple[int, ...]:
    value = text.lstrip("#")
    if len(value) not in (6, 8):
        raise ThemeError(f"bad colour {text!r}")
    try:
        return tuple(int(value[i:i + 2], 16) for i in range(0, len(value), 2))
    except ValueError as exc:
        raise ThemeError(f"bad colour {text!r}") from exc


@dataclass
class Theme:
    colors: dict[str, tuple[int, ...]]
    sizes: dict[str, float]
    timing: dict[str, float] = field(default_factory=dict)

    def c(self, name: str) -> tuple[int, ...]:
        return self.colors[name]

    def s(self, name: str) -> int:
        return int(self.sizes[name])

    def t(self, name: str, default: float = 0.0) -> float:
        return float(self.timing.get(name, default))

    @property
    def touch(self) -> int:
        return max(MIN_TOUCH, int(self.sizes.get("touch_min", MIN_TOUCH)))


def load_theme(path: Path | str | None = None) -> Theme:
    path = Path(path) if path else DEFAULT_THEME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ThemeError(f"cannot read theme {path}: {exc}") from exc
    base = json.loads(DEFAULT_THEME.read_text(encoding="utf-8")) if path != DEFAULT_THEME else raw
    colors = {**base["colors"], **raw.get("colors", {})}
    sizes = {**base["sizes"], **raw.get("sizes", {})}
    timing = {**base.get("timing", {}), **raw.get("timing", {})}
    theme = Theme({k: parse_color(v) for k, v in colors.items()}, sizes, timing)
    if int(theme.sizes.get("touch_min", 0)) < MIN_TOUCH:
        raise ThemeError(f"touch_min must be at least {MIN_TOUCH} px")
    return theme
