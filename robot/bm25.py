"""Okapi BM25 over an inverted index, with a score normalised to [0, 1].

Raw BM25 cannot be compared between queries, and the robot must decide
whether it is sure enough to answer. Dividing by the score the query would
get against itself (same idf, same length statistics) gives "how much of the
query's information this document matches"; a query word the index has never
seen counts with the highest idf, so questions about things the hall does not
know score low instead of matching on filler.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Mapping, Sequence


class Bm25Index:
    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.5) -> None:
        # b is lower than the textbook 0.75: FAQ questions are short and of
        # similar length, so length normalisation mostly adds noise.
        self.k1, self.b = k1, b
        self.doc_len = [len(d) for d in docs]
        self.avgdl = (sum(self.doc_len) / len(docs)) if docs else 1.0
        self.avgdl = self.avgdl or 1.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for doc_id, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                self.postings[term].append((doc_id, tf))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0

    def _term_score(self, idf: float, tf: int, dl: int) -> float:
        return idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * dl / self.avgdl))

    def scores(self, query: Sequence[str], weights: Mapping[str, float] | None = None) -> dict[int, float]:
        """Raw BM25 for every document that shares a term with the query."""
        out: dict[int, float] = defaultdict(float)
        for term, qtf in Counter(query).items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            weight = weights.get(term, 1.0) if weights else 1.0
            for doc_id, tf in self.postings[term]:
                out[doc_id] += weight * self._term_score(idf, tf, self.doc_len[doc_id])
        return out

    def self_score(self, query: Sequence[str], weights: Mapping[str, float] | None = None) -> float:
        """What the query would score against a document identical to it."""
        counts = Counter(query)
        dl = len(query)
        return sum((weights.get(t, 1.0) if weights else 1.0) * self._term_score(self.idf.get(t, self.unknown_idf), tf, dl)
                   for t, tf in counts.items())

    def normalised(self, query: Sequence[str], weights: Mapping[str, float] | None = None) -> dict[int, float]:
        """Scores over the self score; ``weights`` scale single query terms
        (question words count less than what the question is about)."""
        ceiling = self.self_score(query, weights)
        if ceiling <= 0:
            return {}
        return {d: min(1.0, s / ceiling) for d, s in self.scores(query, weights).items()}
