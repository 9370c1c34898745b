"""Line breaking for Chinese text (禁则处理), independent of any font.

Text is measured through a callback so tests run without pygame and the
renderer can pass ``font.size(s)[0]``. CJK characters break anywhere; runs of
Latin letters and digits stay together as words; punctuation that must not
start a line is kept with the previous character (pushed down with it, or
left hanging when a line would otherwise hold nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Measure = Callable[[str], float]

# Closing brackets, full stops, commas, ellipsis and the like never begin a line.
NO_LINE_START = frozenset(
    "。，、；：？！）」』》〉】〕〗］｝’”…‥—～·・．,.;:?!)]}%‰℃°"
)
# Opening brackets and quotes never end a line.
NO_LINE_END = frozenset("（「『《〈【〔〖［｛‘“([{")

# A token is one CJK character, one run of Latin letters/digits (a word that
# must not be split), a run of spaces, or any other single character.
_TOKEN_RE = re.compile(r"[A-Za-z0-9@#&'_\-\+/\.%]+(?<![\.])|\s+|.", re.S)


def tokenize(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _starts_forbidden(token: str) -> bool:
    return bool(token) and token[0] in NO_LINE_START


def _ends_forbidden(token: str) -> bool:
    return bool(token) and token[-1] in NO_LINE_END


def _legal_break(tokens: list[str], at: int) -> bool:
    """May a line end just before ``tokens[at]``?"""
    return not _starts_forbidden(tokens[at]) and not _ends_forbidden(tokens[at - 1])


def wrap_paragraph(text: str, width: float, measure: Measure) -> list[str]:
    tokens = tokenize(text)
    if not tokens:
        return [""]
    widths = _cached(measure)
    lines: list[str] = []
    start, n = 0, len(tokens)
    while start < n:
        # Spaces at the start of a wrapped line are dropped.
        while start < n and lines and tokens[start].isspace():
            start += 1
        if start >= n:
            break
        end, used = start, 0.0
        while end < n and (end == start or used + widths(tokens[end]) <= width):
            used += widths(tokens[end])
            end += 1
        if end < n:
            fit_end = end
            # Push characters down until the break is legal (追い出し).
            while end > start + 1 and not _legal_break(tokens, end):
                end -= 1
            if not _legal_break(tokens, end):
                # Nothing can be pushed: let the line run long (hanging
                # punctuation) up to the next legal break.
                end = fit_end
                while end < n and not _legal_break(tokens, end):
                    end += 1
        line = "".join(tokens[start:end]).rstrip()
        if len(tokens[start]) > 1 and widths(tokens[start]) > width and end == start + 1:
            # One Latin word wider than the line: split it by characters.
            lines.extend(_split_long_word(tokens[start], width, widths))
        else:
            lines.append(line)
        start = end
    return lines


def _split_long_word(word: str, width: float, widths: Callable[[str], float]) -> list[str]:
    parts, current = [], ""
    for ch in word:
        if current and widths(current + ch) > width:
            parts.append(current)
            current = ch
        else:
            current += ch
    if current:
        parts.append(current)
    return parts


def wrap(text: str, width: float, measure: Measure) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (hard newlines kept)."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        lines.extend(wrap_paragraph(paragraph, width, measure))
    return lines


def _cached(measure: Measure) -> Callable[[str], float]:
    # Token widths repeat a lot in Chinese text; measuring each once keeps
    # layout of a long lesson cheap.
    return lru_cache(maxsize=4096)(measure)


def violations(lines: list[str]) -> list[str]:
    """Lines that break the rules (for tests and for logging)."""
    bad = []
    for i, line in enumerate(lines):
        if i > 0 and line and line[0] in NO_LINE_START and lines[i - 1]:
            bad.append(f"line {i} starts with {line[0]!r}")
        if i < len(lines) - 1 and line and line[-1] in NO_LINE_END and lines[i + 1]:
            bad.append(f"line {i} ends with {line[-1]!r}")
    return bad
