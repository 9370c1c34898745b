"""Line breaking for the text the hall draws: exhibit labels, the detail card,
subtitles.

Panda3D's own word wrap treats Chinese as one long word broken anywhere, so a
full stop can begin a line and a caption can end on one lonely character
("扩大会/议"). The hall breaks text itself, with the kiosk's 禁则 rules, in
units of one em (a CJK character), and then keeps the last line from holding a
single character; Panda3D only lays out the explicit line breaks.
"""

from __future__ import annotations

import unicodedata

from kiosk.textlayout import NO_LINE_END, NO_LINE_START, wrap

ELLIPSIS = "…"
# Latin letters and digits in the hall's font are a little over half an em.
_NARROW_EM = 0.55


def em_width(text: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else _NARROW_EM for ch in text)


def _printable_len(line: str) -> int:
    return sum(1 for ch in line if not ch.isspace() and ch not in NO_LINE_START)


def _without_orphan(lines: list[str]) -> list[str]:
    """Pull one or two characters down from the line before when the last line
    would hold a single character, as long as both breaks stay legal."""
    if len(lines) < 2 or _printable_len(lines[-1]) != 1:
        return lines
    before, last = lines[-2], lines[-1]
    for take in (1, 2):
        keep, moved = before[:-take], before[-take:]
        if len(keep) < 2 or moved[0] in NO_LINE_START or moved[0].isspace() or keep[-1] in NO_LINE_END:
            continue
        if moved.isascii() and moved.isalnum() and keep[-1].isascii() and keep[-1].isalnum():
            continue  # never split a Latin word or a number
        return [*lines[:-2], keep.rstrip(), moved + last]
    return lines


def wrap_columns(text: str, columns: float, *, max_lines: int | None = None) -> list[str]:
    """``text`` broken into lines of at most ``columns`` ems (hard newlines
    kept); at most ``max_lines`` lines, the last one ending in an ellipsis when
    text was cut."""
    columns = max(1.0, columns)
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        lines.extend(_without_orphan(wrap(paragraph, columns, em_width)))
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        tail = lines[-1]
        while tail and em_width(tail + ELLIPSIS) > columns:
            tail = tail[:-1]
        lines[-1] = tail.rstrip("，、；：,;: ") + ELLIPSIS
    return lines


def wrap_text(text: str, columns: float, *, max_lines: int | None = None) -> str:
    return "\n".join(wrap_columns(text, columns, max_lines=max_lines))
