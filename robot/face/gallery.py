"""1:N search over enrolled members in numpy.

One row per enrolled embedding (a member has 1-5), searched with a single
matrix product: for euclidean models ``|q - g|^2 = |q|^2 + |g|^2 - 2 g.q``
with the row norms precomputed; for cosine models the rows are normalised
once and the distance is ``1 - g.q``. The best row decides the person, and a
face is accepted only when that distance is within the threshold (and, if
configured, clearly ahead of the next *other* person). Anything else is
unknown: the gallery never guesses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Member:
    member_id: str
    name: str


@dataclass(frozen=True)
class Match:
    member: Member | None        # None: unknown
    distance: float              # to the nearest enrolled embedding (inf on an empty gallery)
    nearest: Member | None       # the nearest member even when not accepted (for tuning)
    margin: float                # distance gap to the nearest other member (inf if none)

    @property
    def accepted(self) -> bool:
        return self.member is not None


class Gallery:
    def __init__(self, *, model: str, metric: str, threshold: float, min_margin: float = 0.0) -> None:
        if metric not in ("euclidean", "cosine"):
            raise ValueError(f"unknown metric {metric!r}")
        if not threshold > 0:
            raise ValueError("threshold must be positive")
        self.model = model
        self.metric = metric
        self.threshold = float(threshold)
        self.min_margin = float(min_margin)
        self.members: list[Member] = []
        self._index: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._labels: list[int] = []
        self._matrix: np.ndarray | None = None
        self._sq_norms: np.ndarray | None = None
        self._label_arr: np.ndarray | None = None

    @classmethod
    def for_embedder(cls, embedder, *, threshold: float | None = None, min_margin: float = 0.0) -> "Gallery":
        return cls(model=embedder.name, metric=embedder.metric,
                   threshold=threshold if threshold is not None else embedder.threshold, min_margin=min_margin)

    # -- building ---------------------------------------------------------------
    def add(self, member: Member, vectors: Iterable[np.ndarray]) -> None:
        """Add embeddings of a member; adding the same member id again extends it."""
        label = self._index.get(member.member_id)
        if label is None:
            label = len(self.members)
            self._index[member.member_id] = label
            self.members.append(member)
        for vector in vectors:
            row = np.asarray(vector, dtype=np.float32).ravel()
            if self._rows and row.shape != self._rows[0].shape:
                raise ValueError(f"embedding of {row.shape[0]} dims does not fit a {self._rows[0].shape[0]}-dim gallery")
            if not np.all(np.isfinite(row)):
                raise ValueError("embedding contains NaN or infinity")
            self._rows.append(row)
            self._labels.append(label)
        self._matrix = None

    def __len__(self) -> int:
        return len(self.members)

    @property
    def size(self) -> int:
        """Number of embeddings (rows), not members."""
        return len(self._rows)

    def _build(self) -> None:
        matrix = np.vstack(self._rows).astype(np.float32) if self._rows else np.zeros((0, 1), np.float32)
        if self.metric == "cosine" and len(matrix):
            matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        self._matrix = np.ascontiguousarray(matrix)
        self._sq_norms = np.einsum("ij,ij->i", matrix, matrix)
        self._label_arr = np.asarray(self._labels, dtype=np.int64)

    # -- searching ----------------------------------------------------------------
    def distances(self, query: np.ndarray) -> np.ndarray:
        """Distance from ``query`` to every row (vectorised)."""
        if self._matrix is None:
            self._build()
        assert self._matrix is not None and self._sq_norms is not None
        q = np.asarray(query, dtype=np.float32).ravel()
        if self.metric == "cosine":
            q = q / max(float(np.linalg.norm(q)), 1e-12)
            return 1.0 - self._matrix @ q
        sq = self._sq_norms + float(q @ q) - 2.0 * (self._matrix @ q)
        return np.sqrt(np.maximum(sq, 0.0))

    def search(self, query: np.ndarray) -> Match:
        if not self._rows:
            return Match(None, float("inf"), None, float("inf"))
        dist = self.distances(query)
        assert self._label_arr is not None
        best = int(np.argmin(dist))
        best_label = int(self._label_arr[best])
        best_distance = float(dist[best])
        others = dist[self._label_arr != best_label]
        margin = float(others.min() - best_distance) if others.size else float("inf")
        nearest = self.members[best_label]
        ok = (np.isfinite(best_distance) and best_distance <= self.threshold and margin >= self.min_margin)
        return Match(nearest if ok else None, best_distance, nearest, margin)

    def search_many(self, queries: Sequence[np.ndarray]) -> list[Match]:
        return [self.search(q) for q in queries]
