"""Chinese text → tone-numbered pinyin for espeak-ng's ``cmn-latn-pinyin`` voice.

espeak's own Chinese voice mispronounces polyphones (银行 háng, 长征 cháng)
and reads tone digits aloud; its pinyin voice speaks proper Mandarin when
given "chang2 zheng1". pypinyin's phrase dictionary gets most polyphones
right; names it does not know (exhibits, people, places) go in an override
table that operators edit::

    # pinyin_overrides.yaml: word → pinyin with tone digits (5 = neutral)
    遵义会议: zun1 yi4 hui4 yi4
    重庆谈判: chong2 qing4 tan2 pan4

Overrides win over pypinyin, longest word first.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import yaml

from .textnorm import CJK, arabic_to_spoken

log = logging.getLogger(__name__)

_TONED = re.compile(r"^([a-zü]+[1-5])( [a-zü]+[1-5])*$")
# Chinese punctuation becomes the ASCII pause marks espeak understands.
_PAUSES = str.maketrans({"，": ",", "、": ",", "；": ";", "：": ",", "。": ".", "！": "!", "？": "?", "…": ".",
                         "“": " ", "”": " ", "‘": " ", "’": " ", "《": " ", "》": " ", "（": ",", "）": ",",
                         "—": ",", "·": " ", "%": " "})
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


class OverrideError(ValueError):
    pass


def load_overrides(path: str | Path) -> dict[str, str]:
    """Read and check an override table; a bad line names the word and why."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise OverrideError(f"cannot read pinyin overrides {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise OverrideError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise OverrideError(f"{path}: expected a mapping of word: pinyin")
    table = {}
    for word, spoken in data.items():
        spoken = " ".join(str(spoken).lower().replace("v", "ü").split())
        syllables = len(spoken.split())
        if not _TONED.match(spoken):
            raise OverrideError(f"{path}: {word}: {spoken!r} is not tone-numbered pinyin such as 'chang2 zheng1'")
        if syllables != len(str(word)):
            raise OverrideError(f"{path}: {word}: {syllables} syllables for {len(str(word))} characters")
        table[str(word)] = spoken
    return table


class PinyinConverter:
    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self.overrides = dict(overrides or {})
        keys = sorted(self.overrides, key=len, reverse=True)
        self._override_re = re.compile("|".join(map(re.escape, keys))) if keys else None

    def syllables(self, text: str) -> list[str]:
        """Tone-numbered syllables and pause marks for the text."""
        from pypinyin import Style, lazy_pinyin

        text = _PERCENT.sub(lambda m: "百分之" + m.group(1), text)
        text = arabic_to_spoken(text).translate(_PAUSES)
        out: list[str] = []
        for chunk, fixed in self._split_overrides(text):
            if fixed is not None:
                out.extend(fixed.split())
                continue
            for piece in re.findall(rf"[{CJK}]+|[,.;!?]|[A-Za-z]+", chunk):
                if re.match(rf"[{CJK}]", piece):
                    out.extend(lazy_pinyin(piece, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True,
                                           v_to_u=False))
                else:
                    out.append(piece.lower() if piece.isalpha() else piece)
        return out

    def to_pinyin(self, text: str) -> str:
        spoken = " ".join(self.syllables(text))
        return re.sub(r" ([,.;!?])", r"\1", spoken).strip()

    def _split_overrides(self, text: str) -> list[tuple[str, str | None]]:
        if self._override_re is None:
            return [(text, None)]
        parts: list[tuple[str, str | None]] = []
        last = 0
        for match in self._override_re.finditer(text):
            if match.start() > last:
                parts.append((text[last:match.start()], None))
            parts.append((match.group(0), self.overrides[match.group(0)]))
            last = match.end()
        if last < len(text):
            parts.append((text[last:], None))
        return parts
