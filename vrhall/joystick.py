"""An on-screen joystick for touch tables (pure): where the finger is
relative to the stick's centre becomes walking speed and turning rate."""

from __future__ import annotations

import math

DEAD_ZONE = 0.15


def stick_vector(center: tuple[float, float], radius: float, point: tuple[float, float]) -> tuple[float, float]:
    """(forward, turn) in -1..1: up walks forward, right turns right (negative
    heading change). Inside the dead zone nothing moves, so a resting finger
    does not drift."""
    dx, dy = (point[0] - center[0]) / radius, (point[1] - center[1]) / radius
    length = math.hypot(dx, dy)
    if length < DEAD_ZONE:
        return (0.0, 0.0)
    if length > 1.0:
        dx, dy = dx / length, dy / length
    return (dy, -dx)


def inside(center: tuple[float, float], radius: float, point: tuple[float, float]) -> bool:
    return math.hypot(point[0] - center[0], point[1] - center[1]) <= radius * 1.2
