"""Narration text as timed subtitles (pure): one sentence on screen at a
time, each shown for as long as it takes to say it."""

from __future__ import annotations

import re
from dataclasses import dataclass

CHARS_PER_SECOND = 4.5  # a calm Mandarin guide
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


@dataclass(frozen=True)
class Subtitle:
    text: str
    start: float
    end: float


def split_sentences(text: str, max_chars: int = 40) -> list[str]:
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]
    out: list[str] = []
    for part in parts:
        # Long sentences break at a comma so a subtitle stays readable; a comma
        # too near the start would leave a stub, so then the next one is used.
        while len(part) > max_chars:
            commas = [i + 1 for i, ch in enumerate(part) if ch in "，,、" and i + 1 < len(part)]
            fitting = [c for c in commas if max_chars // 3 <= c <= max_chars]
            later = [c for c in commas if c > max_chars and c <= max_chars * 3 // 2]
            cut = fitting[-1] if fitting else (later[0] if later else max_chars)
            out.append(part[:cut])
            part = part[cut:]
        if part:
            out.append(part)
    return out


def subtitles(text: str, chars_per_second: float = CHARS_PER_SECOND, gap: float = 0.3) -> list[Subtitle]:
    out, t = [], 0.0
    for sentence in split_sentences(text):
        length = max(1.5, len(sentence) / chars_per_second)
        out.append(Subtitle(sentence, t, t + length))
        t += length + gap
    return out


def narration_seconds(text: str) -> float:
    subs = subtitles(text)
    return subs[-1].end if subs else 0.0


def subtitle_at(subs: list[Subtitle], elapsed: float) -> str:
    for sub in subs:
        if sub.start <= elapsed < sub.end + 0.3:
            return sub.text
    return ""
