"""Commands recognised by meaning when no pattern caught them.

The patterns in nlu.py decide the usual ways of saying stop, repeat, hello
or "show us everything"; visitors keep finding others ("等一下先别讲",
"机器人你好", "带我们全部转一转"). A phrasebook of a few ways to say each,
embedded with the same sentence encoder as the FAQ, catches what is close in
meaning to one of them. It only speaks when the FAQ would not answer: a
question the hall can answer is never taken for a command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .semantic import SentenceEncoder, mostly_chinese

# Written as visitors talk to a guide; operators may pass their own.
PHRASEBOOK: dict[str, tuple[str, ...]] = {
    "stop": ("停下", "别说了", "不要讲了", "暂停一下", "安静一点", "先别说了", "停止讲解", "不用再讲了", "等一等先别讲了"),
    "greeting": ("你好", "你好机器人", "您好", "早上好", "嗨你好"),
    "tour": ("带我参观整个展厅", "开始导览", "带我们逛一圈", "带我们把展厅都看一遍", "按顺序带我参观所有展区",
             "从头到尾给我们讲一遍"),
    "repeat": ("再说一遍", "没听清楚", "你刚才说什么", "请重复一下", "刚才那句再讲一次"),
}


@dataclass(frozen=True)
class CommandMatch:
    intent: str
    score: float  # cosine to the closest phrase
    phrase: str


# How close to a phrase counts. A greeting needs more: "机器人能为我做点什么"
# is as close to "你好机器人" as a reworded stop is to "别说了".
BARS = {"greeting": 0.8}


class CommandMatcher:
    def __init__(self, encoder: SentenceEncoder, phrasebook: Mapping[str, Sequence[str]] = PHRASEBOOK, *,
                 bar: float = 0.7, bars: Mapping[str, float] = BARS) -> None:
        self.bar = bar
        self.bars = dict(bars)
        self._intents = [intent for intent, phrases in phrasebook.items() for _ in phrases]
        self._phrases = [phrase for phrases in phrasebook.values() for phrase in phrases]
        self._encoder = encoder
        self._vectors = encoder.encode(self._phrases)

    def match(self, text: str) -> CommandMatch | None:
        """The command the text means, if it is close enough to one of its phrases."""
        if not self._phrases or not mostly_chinese(text):
            return None
        cosines = self._vectors @ self._encoder.encode([text])[0]
        best = int(np.argmax(cosines))
        if cosines[best] < self.bars.get(self._intents[best], self.bar):
            return None
        return CommandMatch(self._intents[best], round(float(cosines[best]), 4), self._phrases[best])
