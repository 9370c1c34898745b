"""Scripted input for headless runs, tests and the admin's previews.

Text format, one step per line (``#`` starts a comment):

    tap 960 540            tap at pixel coordinates
    tap 党情速递            tap the visible button with this label (or key, e.g. ``back``, ``pin:branch-1``)
    swipe left             swipe across the middle of the screen (left/right/up/down)
    swipe 1500 500 300 500 swipe between two points
    wait 2.5               let 2.5 s of kiosk time pass (frames are run, no real sleeping)
    screenshot out.png     save the screen now
    expect screen news     stop with an error unless this screen is showing

JSON format: a list of objects such as ``{"tap": "党情速递"}``, ``{"tap": [960, 540]}``,
``{"swipe": "left"}``, ``{"wait": 2}``, ``{"screenshot": "a.png"}``, ``{"expect": "news"}``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pygame

FRAME = 1 / 30


class ScriptError(ValueError):
    pass


@dataclass
class Step:
    action: str
    args: list


def parse(text: str) -> list[Step]:
    text = text.strip()
    if text.startswith("["):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScriptError(f"script is not valid JSON: {exc}") from exc
        steps = []
        for entry in raw:
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ScriptError(f"each JSON step is one key: {entry!r}")
            (action, value), = entry.items()
            args = value if isinstance(value, list) else [value]
            steps.append(_check(Step(action, [str(a) for a in args]), entry))
        return steps
    steps = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = shlex.split(line)
        steps.append(_check(Step(parts[0], parts[1:]), f"line {number}"))
    return steps


def _check(step: Step, where) -> Step:
    arity = {"tap": (1, 2), "swipe": (1, 4), "wait": (1,), "screenshot": (1,), "expect": (1, 2)}
    if step.action not in arity:
        raise ScriptError(f"{where}: unknown step {step.action!r}")
    if len(step.args) not in arity[step.action]:
        raise ScriptError(f"{where}: {step.action} takes {' or '.join(map(str, arity[step.action]))} arguments")
    if step.action == "wait":
        try:
            if float(step.args[0]) < 0:
                raise ValueError
        except ValueError as exc:
            raise ScriptError(f"{where}: wait needs seconds") from exc
    return step


def press(app, start, end=None) -> None:
    """Post a mouse press and release, as a finger would make them."""
    end = end or start
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=tuple(start), button=1, touch=False))
    if end != start:
        mid = ((start[0] + end[0]) // 2, (start[1] + end[1]) // 2)
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=mid, rel=(0, 0), buttons=(1, 0, 0), touch=False))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=tuple(end), button=1, touch=False))
    app.pump(FRAME)


def tap(app, target) -> None:
    if isinstance(target, (tuple, list)):
        press(app, (int(target[0]), int(target[1])))
        return
    button = app.find(str(target))
    if button is None:
        raise ScriptError(f"no button {target!r} on screen {app.current_name}")
    press(app, button.rect.center)


def swipe(app, direction_or_points) -> None:
    w, h = app.size
    if isinstance(direction_or_points, str):
        cx, cy, dx, dy = w // 2, h // 2, w // 3, h // 4
        moves = {"left": ((cx + dx // 2, cy), (cx - dx // 2, cy)), "right": ((cx - dx // 2, cy), (cx + dx // 2, cy)),
                 "up": ((cx, cy + dy // 2), (cx, cy - dy // 2)), "down": ((cx, cy - dy // 2), (cx, cy + dy // 2))}
        if direction_or_points not in moves:
            raise ScriptError(f"unknown swipe direction {direction_or_points!r}")
        start, end = moves[direction_or_points]
    else:
        x1, y1, x2, y2 = (int(v) for v in direction_or_points)
        start, end = (x1, y1), (x2, y2)
    press(app, start, end)


def wait(app, seconds: float) -> None:
    frames = max(1, int(round(seconds / FRAME)))
    for _ in range(frames):
        app.pump(FRAME)


def run(app, steps: list[Step], base: Path | None = None) -> list[str]:
    """Play the steps; returns one log line per step."""
    log = []
    for step in steps:
        if step.action == "tap":
            tap(app, step.args if len(step.args) == 2 else step.args[0])
        elif step.action == "swipe":
            swipe(app, step.args[0] if len(step.args) == 1 else step.args)
        elif step.action == "wait":
            wait(app, float(step.args[0]))
        elif step.action == "screenshot":
            path = Path(step.args[0])
            if base is not None and not path.is_absolute():
                path = base / path
            app.screenshot(path)
        elif step.action == "expect":
            wanted = step.args[-1]
            if app.current_name != wanted:
                raise ScriptError(f"expected screen {wanted}, showing {app.current_name}")
        log.append(f"{step.action} {' '.join(step.args)} -> {app.current_name}")
    return log
