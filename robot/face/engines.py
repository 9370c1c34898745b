"""Small interfaces for the face engines, and the factories that build them.

Pipelines receive engines from these factories, so tests and benchmarks swap
them freely and nothing heavy (cv2, dlib) is imported until an engine is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from .config import FaceConfig


@dataclass(frozen=True)
class FaceBox:
    """A detected face in original-frame pixel coordinates."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0
    # Five landmarks (x, y) when the detector provides them (YuNet); else None.
    landmarks: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass(frozen=True)
class FaceEmbedding:
    box: FaceBox
    vector: np.ndarray                       # float32, shape (dim,)
    landmarks: np.ndarray = field(repr=False)  # (5, 2) float32, original frame coordinates


class Detector(Protocol):
    name: str

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        """Faces in a BGR frame, largest first."""
        ...


class Embedder(Protocol):
    name: str          # recorded with every stored embedding: vectors of two models never mix
    dim: int
    metric: str        # "euclidean" (lower is closer) or "cosine" (turned into 1 - cos)
    threshold: float   # published operating point, as a distance

    def embed(self, bgr: np.ndarray, box: FaceBox) -> FaceEmbedding:
        ...


def make_detector(config: "FaceConfig") -> Detector:
    from . import detectors

    if config.detector == "haar":
        return detectors.HaarDetector(config)
    if config.detector == "hog":
        return detectors.HogDetector(config)
    return detectors.YuNetDetector(config)


def make_embedder(config: "FaceConfig") -> Embedder:
    from . import embedders

    if config.embedder == "dlib":
        return embedders.DlibEmbedder()
    return embedders.SFaceEmbedder(config)
