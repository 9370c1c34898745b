"""FAQ retrieval for Chinese: character-bigram BM25 combined with jieba-word BM25.

Bigrams survive segmentation mistakes and ASR slips inside a word; words
weigh whole names and terms properly. Each FAQ question is its own document
(an entry scores the best of its questions), and the answer text is a second,
lighter field so a visitor may ask with words that only the answer uses.

Words alone miss paraphrases that share no characters with the KB; a sentence
encoder (semantic.py) adds how close the meaning is, as a share of the score.
Without an encoder the ranker is lexical only, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

from .bm25 import Bm25Index
from .chinese import QUESTION_TOKENS, Canonicaliser, WordTokenizer, char_bigrams
from .knowledge import KnowledgeBase
from .semantic import EncoderUnavailable, SemanticIndex, SentenceEncoder, load_encoder
from .textnorm import normalize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankerWeights:
    bigram: float = 0.5
    word: float = 0.5
    answer: float = 0.3
    # Question words (何时, 哪里, 多少 …) say what kind of answer is wanted,
    # which the re-ranker reads; for matching they count this much of a
    # topic word, so "预约电话是多少" is about 预约, not about whatever has 多少.
    question_word: float = 0.4
    # Share of the sentence encoder's score in an entry's score, when there is one.
    semantic: float = 0.3


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    score: float
    question: str  # the KB question that matched best, for asking back


class FaqRanker:
    def __init__(self, kb: KnowledgeBase, *, weights: RankerWeights = RankerWeights(),
                 tokenizer: WordTokenizer | None = None, encoder: SentenceEncoder | str | None = "use") -> None:
        self.kb = kb
        self.weights = weights
        self.encoder_error: str | None = None
        if isinstance(encoder, str):
            try:
                encoder = load_encoder(encoder)
            except EncoderUnavailable as exc:
                # Keep answering with words alone; `hall robot check` says why.
                log.warning("FAQ retrieval without sentence embeddings: %s", exc)
                self.encoder_error, encoder = str(exc), None
        aliases = {alias: ex.title for ex in kb.exhibits for alias in ex.aliases}
        self.canon = Canonicaliser(aliases, protected=[*kb.terms, *(ex.title for ex in kb.exhibits)])
        self.words = tokenizer or WordTokenizer([*kb.vocabulary(), *self.canon.table.values()])
        self._doc_entry: list[int] = []
        self._doc_question: list[str] = []
        q_bigrams, q_words, a_bigrams, a_words = [], [], [], []
        # Each entry's canonical text without spaces, for the checks that ask
        # whether an entry mentions a word: its questions, and with its answer.
        self.asked_text: dict[str, str] = {}
        self.entry_text: dict[str, str] = {}
        self._entry_index = {faq.id: i for i, faq in enumerate(kb.faqs)}
        for entry_index, faq in enumerate(kb.faqs):
            asked = []
            for question in faq.questions:
                text = self.canon(question)
                asked.append(text)
                q_bigrams.append(char_bigrams(text))
                q_words.append(self.words(text))
                self._doc_entry.append(entry_index)
                self._doc_question.append(question)
            answer = self.canon(faq.answer)
            a_bigrams.append(char_bigrams(answer))
            a_words.append(self.words(answer))
            self.asked_text[faq.id] = " ".join(asked).replace(" ", "")
            self.entry_text[faq.id] = " ".join([*asked, answer]).replace(" ", "")
        self._q_bigram = Bm25Index(q_bigrams)
        self._q_word = Bm25Index(q_words)
        self._a_bigram = Bm25Index(a_bigrams)
        self._a_word = Bm25Index(a_words)
        self.semantic = SemanticIndex(encoder, [[normalize(q) for q in f.questions] for f in kb.faqs],
                                      [normalize(f.answer) for f in kb.faqs]) if encoder and kb.faqs else None

    def question_cosine(self, text: str, faq_id: str) -> float | None:
        """How close in meaning the text is to the entry's closest question;
        None without an encoder."""
        if self.semantic is None:
            return None
        index = self._entry_index.get(faq_id)
        return None if index is None else float(self.semantic.cosines(normalize(text))[0][index])

    def analyse(self, text: str) -> tuple[list[str], list[str]]:
        canonical = self.canon(text)
        return char_bigrams(canonical), self.words(canonical)

    def rank(self, text: str, *, limit: int = 5) -> list[Candidate]:
        if not self.kb.faqs:
            return []
        bigrams, words = self.analyse(text)
        if not bigrams and not words:
            return []
        w = self.weights
        light = {t: w.question_word for t in (*bigrams, *words) if t in QUESTION_TOKENS}
        by_entry: dict[int, tuple[float, int]] = {}
        qb, qw = self._q_bigram.normalised(bigrams, light), self._q_word.normalised(words, light)
        for doc in set(qb) | set(qw):
            score = w.bigram * qb.get(doc, 0.0) + w.word * qw.get(doc, 0.0)
            entry = self._doc_entry[doc]
            if score > by_entry.get(entry, (-1.0, -1))[0]:
                by_entry[entry] = (score, doc)
        ab, aw = self._a_bigram.normalised(bigrams, light), self._a_word.normalised(words, light)
        answer_score = {e: w.bigram * ab.get(e, 0.0) + w.word * aw.get(e, 0.0) for e in set(ab) | set(aw)}
        semantic = self.semantic.scores(normalize(text)) if self.semantic is not None else None
        entries = set(by_entry) | set(answer_score)
        if semantic is not None:
            entries |= {int(e) for e in semantic.nonzero()[0]}
        results = []
        for entry in entries:
            q_score, doc = by_entry.get(entry, (0.0, -1))
            score = (1 - w.answer) * q_score + w.answer * answer_score.get(entry, 0.0)
            if semantic is not None:
                score = (1 - w.semantic) * score + w.semantic * float(semantic[entry])
            faq = self.kb.faqs[entry]
            results.append(Candidate(faq.id, round(score, 4), self._doc_question[doc] if doc >= 0 else faq.questions[0]))
        results.sort(key=lambda c: (-c.score, c.faq_id))
        return results[:limit]


def exhibit_mentions(kb: KnowledgeBase, text: str) -> list[tuple[str, str]]:
    """Exhibits named in the text as (exhibit_id, the name used), longest name first."""
    norm = normalize(text).replace(" ", "")
    found: list[tuple[int, str, str]] = []
    for exhibit in kb.exhibits:
        for name in exhibit.names:
            n = normalize(name).replace(" ", "")
            if n and n in norm:
                found.append((len(n), exhibit.id, name))
    found.sort(key=lambda f: -f[0])
    seen, out = set(), []
    for _, exhibit_id, name in found:
        if exhibit_id not in seen:
            seen.add(exhibit_id)
            out.append((exhibit_id, name))
    return out


def closest_exhibits(kb: KnowledgeBase, phrase: str, *, limit: int = 3) -> list[tuple[str, float]]:
    """Exhibits whose names share the most character bigrams (Dice) with the phrase."""
    target = set(_grams(normalize(phrase)))
    if not target:
        return []
    scored = []
    for exhibit in kb.exhibits:
        best = 0.0
        for name in exhibit.names:
            grams = set(_grams(normalize(name)))
            if grams:
                best = max(best, 2 * len(grams & target) / (len(grams) + len(target)))
        scored.append((exhibit.id, round(best, 3)))
    scored.sort(key=lambda s: (-s[1], s[0]))
    return [s for s in scored[:limit] if s[1] > 0] or [(s[0], s[1]) for s in scored[:limit]]


def _grams(text: str) -> Sequence[str]:
    text = "".join(ch for ch in text if not ch.isspace())
    if len(text) < 2:
        return [text] if text else []
    return [text[i:i + 2] for i in range(len(text) - 1)] + list(text)
