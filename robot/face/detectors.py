"""Face detectors: OpenCV Haar cascade (default, ships with opencv-python<5),
dlib HOG, and YuNet when an operator supplies its ONNX file.

Every detector works on a copy scaled down to ``detect_max_side`` (detection
cost grows with pixels, accuracy barely does for faces at robot distance) and
returns boxes in original-frame coordinates, largest first.
"""

from __future__ import annotations

import numpy as np

from .config import FaceConfig
from .engines import FaceBox
from .models import haar_cascade_path, operator_model


def _downscale(bgr: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return bgr, 1.0
    small = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return small, scale


def _clip_box(x: float, y: float, w: float, h: float, shape: tuple[int, ...], score: float,
              landmarks: np.ndarray | None = None) -> FaceBox | None:
    height, width = shape[:2]
    x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
    x1, y1 = min(width, int(round(x + w))), min(height, int(round(y + h)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return FaceBox(x0, y0, x1 - x0, y1 - y0, float(score), landmarks)


def _largest_first(boxes: list[FaceBox | None]) -> list[FaceBox]:
    return sorted((b for b in boxes if b is not None), key=lambda b: b.area, reverse=True)


class HaarDetector:
    name = "haar"

    def __init__(self, config: FaceConfig) -> None:
        import cv2

        self._cv2 = cv2
        self._config = config
        self._cascade = cv2.CascadeClassifier(str(haar_cascade_path()))
        if self._cascade.empty():
            from .errors import ModelMissingError

            raise ModelMissingError("Haar 级联文件无法加载")

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        cv2 = self._cv2
        small, scale = _downscale(bgr, self._config.detect_max_side)
        grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        # Equalising makes the cascade tolerant of the hall's uneven lighting.
        grey = cv2.equalizeHist(grey)
        min_side = max(20, int(self._config.min_face_px * scale))
        found = self._cascade.detectMultiScale(grey, scaleFactor=self._config.haar_scale_factor, minNeighbors=self._config.haar_min_neighbors,
                                               minSize=(min_side, min_side))
        return _largest_first([_clip_box(x / scale, y / scale, w / scale, h / scale, bgr.shape, 1.0)
                               for (x, y, w, h) in (found if len(found) else [])])


class HogDetector:
    name = "hog"

    def __init__(self, config: FaceConfig) -> None:
        import dlib

        self._config = config
        self._detector = dlib.get_frontal_face_detector()

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        import cv2

        small, scale = _downscale(bgr, self._config.detect_max_side)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB) if small.ndim == 3 else small
        rects, scores, _ = self._detector.run(rgb, 0, 0.0)
        return _largest_first([
            _clip_box(r.left() / scale, r.top() / scale, r.width() / scale, r.height() / scale, bgr.shape, s)
            for r, s in zip(rects, scores)
        ])


class YuNetDetector:
    """OpenCV's YuNet (``cv2.FaceDetectorYN``); gives five landmarks, which SFace needs."""

    name = "yunet"

    def __init__(self, config: FaceConfig) -> None:
        import cv2

        path = operator_model(config.yunet_model, "YuNet 人脸检测", "HALL_FACE_YUNET_MODEL")
        self._config = config
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), config.yunet_score, 0.3, 5000)
        except cv2.error as exc:
            from .errors import ModelMissingError

            raise ModelMissingError(f"YuNet 模型无法加载: {path}: {exc}") from exc

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        small, scale = _downscale(bgr, self._config.detect_max_side)
        h, w = small.shape[:2]
        self._net.setInputSize((w, h))
        _, faces = self._net.detect(small)
        if faces is None:
            return []
        boxes = []
        for row in faces:
            landmarks = (row[4:14].reshape(5, 2) / scale).astype(np.float32)
            boxes.append(_clip_box(row[0] / scale, row[1] / scale, row[2] / scale, row[3] / scale, bgr.shape,
                                   float(row[14]), landmarks))
        return _largest_first(boxes)
