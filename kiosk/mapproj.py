"""Place branch pins on a local map image from latitude and longitude.

The demo map is a schematic covering a small area, so a linear
(equirectangular) projection between the MapInfo bounds is accurate enough;
over a city the error is far below a pin's size.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bounds:
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    @classmethod
    def of(cls, map_info) -> "Bounds":
        return cls(map_info.lat_min, map_info.lat_max, map_info.lon_min, map_info.lon_max)

    def valid(self) -> bool:
        values = (self.lat_min, self.lat_max, self.lon_min, self.lon_max)
        return (all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
                and -90 <= self.lat_min < self.lat_max <= 90 and -180 <= self.lon_min < self.lon_max <= 180)


def project(lat: float | None, lon: float | None, bounds: Bounds, size: tuple[int, int]) -> tuple[int, int] | None:
    """Pixel position of (lat, lon) on an image of ``size``, or None when the
    point cannot be placed (missing, not a number, or outside the map)."""
    if not bounds.valid():
        return None
    if lat is None or lon is None:
        return None
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (bounds.lat_min <= lat <= bounds.lat_max and bounds.lon_min <= lon <= bounds.lon_max):
        return None
    width, height = size
    x = (lon - bounds.lon_min) / (bounds.lon_max - bounds.lon_min) * (width - 1)
    # Image rows grow downwards while latitude grows northwards.
    y = (bounds.lat_max - lat) / (bounds.lat_max - bounds.lat_min) * (height - 1)
    return round(x), round(y)


def place_pins(branches, bounds: Bounds, size: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """Pins for every branch that can be placed; the rest are logged and left out."""
    if not bounds.valid():
        log.warning("map: bounds %s are not usable; no pins placed", bounds)
        return {}
    pins = {}
    for branch in branches:
        spot = project(getattr(branch, "lat", None), getattr(branch, "lon", None), bounds, size)
        if spot is None:
            log.warning("map: branch %s has unusable position lat=%r lon=%r; pin left out",
                        branch.id, getattr(branch, "lat", None), getattr(branch, "lon", None))
            continue
        pins[branch.id] = spot
    return pins
