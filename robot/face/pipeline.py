"""Detect, check and embed every face of one frame."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .config import FaceConfig
from .engines import Detector, Embedder, FaceEmbedding, make_detector, make_embedder
from .quality import face_sharpness, frame_brightness, plausible_face

log = logging.getLogger(__name__)

# Messages for operators and the robot's screen (Simplified Chinese).
MSG_DARK = "画面太暗，请打开照明或面向光源"
MSG_BLURRED = "画面模糊，请站稳并正对摄像头"
MSG_SMALL = "距离太远，请走近摄像头"


@dataclass
class FrameFaces:
    faces: list[FaceEmbedding] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)   # why detected faces were not embedded
    problem: str | None = None                           # frame-level problem when no face is usable
    brightness: float = 0.0


class FacePipeline:
    def __init__(self, detector: Detector, embedder: Embedder, config: FaceConfig) -> None:
        self.detector = detector
        self.embedder = embedder
        self.config = config

    @classmethod
    def from_config(cls, config: FaceConfig) -> "FacePipeline":
        return cls(make_detector(config), make_embedder(config), config)

    def analyse(self, bgr: np.ndarray, *, max_faces: int = 8) -> FrameFaces:
        result = FrameFaces(brightness=frame_brightness(bgr))
        if result.brightness < self.config.dark_mean:
            result.problem = MSG_DARK
            return result
        for box in self.detector.detect(bgr)[:max_faces]:
            if box.w < self.config.min_face_px:
                result.rejected.append(MSG_SMALL)
                continue
            if face_sharpness(bgr, box.x, box.y, box.w, box.h) < self.config.blur_variance:
                result.rejected.append(MSG_BLURRED)
                continue
            face = self.embedder.embed(bgr, box)
            dlib_order = self.embedder.metric == "euclidean" and box.landmarks is None
            if not plausible_face(face.landmarks, box.w, dlib_order=dlib_order):
                log.debug("dropped implausible detection at %s", box)
                continue
            result.faces.append(face)
        if not result.faces and result.rejected:
            result.problem = result.rejected[0]
        return result
