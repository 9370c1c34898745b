"""Custom pygame events: how the outside world (network thread, script
player) talks to the drawing code without touching it.

Other threads call ``post(...)``; pygame's event queue is thread-safe, and the
main loop wakes up as soon as something arrives.
"""

from __future__ import annotations

from typing import Any

import pygame

MANIFEST_APPLIED = pygame.event.custom_type()   # data: Manifest
ALERT_CHANGED = pygame.event.custom_type()      # data: ShownAlert | EmergencyAlert | None
DIALOGUE = pygame.event.custom_type()           # data: DialogueTurn
ATTENDANCE = pygame.event.custom_type()         # data: AttendanceBoard | CheckIn
CONNECTION = pygame.event.custom_type()         # data: bool (online)
COMMAND = pygame.event.custom_type()            # data: CommandRequest
POINTS_RESULT = pygame.event.custom_type()      # data: PointsAck
# Gestures made from raw mouse/finger events by kiosk.gestures.
TAP = pygame.event.custom_type()                # pos
SWIPE = pygame.event.custom_type()              # pos, dx, dy, direction

OUTSIDE = {MANIFEST_APPLIED, ALERT_CHANGED, DIALOGUE, ATTENDANCE, CONNECTION, COMMAND, POINTS_RESULT}


def post(event_type: int, data: Any = None) -> bool:
    """Thread-safe hand-over to the UI thread; False if the queue is gone."""
    try:
        return bool(pygame.event.post(pygame.event.Event(event_type, data=data)))
    except pygame.error:
        return False
