"""Face embedders: dlib's ResNet (128-d, public domain, 99.38 % on LFW at
euclidean distance 0.6) with 5-point alignment, and OpenCV's SFace when an
operator supplies its ONNX file (cosine similarity 0.363 is its published
operating point)."""

from __future__ import annotations

import numpy as np

from .config import FaceConfig
from .engines import FaceBox, FaceEmbedding
from .errors import FaceError
from .models import DLIB_RESNET, DLIB_SHAPE_5, dlib_model_path, operator_model

# How much context around the box the aligner needs (dlib's chip adds 25 % padding).
_CROP_MARGIN = 0.6


class DlibEmbedder:
    name = "dlib_resnet_v1"
    dim = 128
    metric = "euclidean"
    threshold = 0.6

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(dlib_model_path(DLIB_SHAPE_5)))
        self._net = dlib.face_recognition_model_v1(str(dlib_model_path(DLIB_RESNET)))

    def embed(self, bgr: np.ndarray, box: FaceBox) -> FaceEmbedding:
        import cv2

        dlib = self._dlib
        # Align and embed on a padded crop only: converting a whole 1080p frame per face is waste.
        height, width = bgr.shape[:2]
        mx, my = int(box.w * _CROP_MARGIN), int(box.h * _CROP_MARGIN)
        x0, y0 = max(0, box.x - mx), max(0, box.y - my)
        x1, y1 = min(width, box.x + box.w + mx), min(height, box.y + box.h + my)
        crop = bgr[y0:y1, x0:x1]
        rgb = np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB) if crop.ndim == 3
                                   else cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB))
        rect = dlib.rectangle(box.x - x0, box.y - y0, box.x - x0 + box.w, box.y - y0 + box.h)
        shape = self._shape(rgb, rect)
        chip = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
        vector = np.asarray(self._net.compute_face_descriptor(chip), dtype=np.float32)
        points = np.array([(p.x + x0, p.y + y0) for p in shape.parts()], dtype=np.float32)
        return FaceEmbedding(box=box, vector=vector, landmarks=points)


class SFaceEmbedder:
    name = "opencv_sface"
    dim = 128
    metric = "cosine"
    threshold = 1.0 - 0.363

    def __init__(self, config: FaceConfig) -> None:
        import cv2

        path = operator_model(config.sface_model, "SFace 人脸特征", "HALL_FACE_SFACE_MODEL")
        try:
            self._net = cv2.FaceRecognizerSF.create(str(path), "")
        except cv2.error as exc:
            raise FaceError(f"SFace 模型无法加载: {path}: {exc}") from exc

    def embed(self, bgr: np.ndarray, box: FaceBox) -> FaceEmbedding:
        if box.landmarks is None:
            raise FaceError("SFace 需要 YuNet 检测器给出的五点关键点 (HALL_FACE_DETECTOR=yunet)")
        row = np.concatenate([[box.x, box.y, box.w, box.h], box.landmarks.ravel(), [box.score]])
        aligned = self._net.alignCrop(bgr, row.astype(np.float32)[None, :])
        vector = np.asarray(self._net.feature(aligned), dtype=np.float32).ravel()
        return FaceEmbedding(box=box, vector=vector, landmarks=box.landmarks.astype(np.float32))
