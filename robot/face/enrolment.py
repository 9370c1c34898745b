"""Turning photos into embeddings: for enrolment (admin uploads, robot captures)
and for the folder galleries operators use to tune the threshold."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import EnrolmentError
from .gallery import Gallery, Member
from .pipeline import FacePipeline

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MAX_PHOTO_BYTES = 20 * 1024 * 1024
# A portrait needs a few megapixels; a small file that declares hundreds of
# megapixels is a decompression bomb and is refused before any pixel is decoded.
MAX_PHOTO_PIXELS = 40_000_000
# A second face at least this fraction of the largest one makes a photo ambiguous.
AMBIGUOUS_AREA = 0.5


def decode_image(data: bytes) -> np.ndarray:
    """BGR pixels from JPEG/PNG/... bytes; ``EnrolmentError`` when they are not an image."""
    import cv2

    if len(data) > MAX_PHOTO_BYTES:
        raise EnrolmentError(f"照片太大 ({len(data) // 1024} KB)，上限 {MAX_PHOTO_BYTES // 1024 // 1024} MB")
    size = _declared_size(data)
    if size is not None and size[0] * size[1] > MAX_PHOTO_PIXELS:
        raise EnrolmentError(f"照片像素过多 ({size[0]}×{size[1]})，上限 {MAX_PHOTO_PIXELS // 1_000_000} 百万像素")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise EnrolmentError("无法识别的图片文件")
    return image


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the image header alone (Pillow opens lazily), or
    None when Pillow cannot tell (OpenCV then decides whether it is an image)."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                return img.size
    except Image.DecompressionBombError as exc:
        raise EnrolmentError("照片像素过多，请上传普通尺寸的照片") from exc
    except Exception:  # noqa: BLE001 (any parse failure: not a header Pillow knows)
        return None


def read_image(path: Path) -> np.ndarray:
    try:
        return decode_image(Path(path).read_bytes())
    except OSError as exc:
        raise EnrolmentError(f"无法读取图片 {path}: {exc}") from exc


@dataclass(frozen=True)
class EnrolmentFace:
    vector: np.ndarray
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class PhotoCheck:
    """What one enrolment photo gave: the faces found and the usable one (or why not)."""

    faces: int
    face: EnrolmentFace | None
    problem: str | None


def check_enrolment_photo(pipeline: FacePipeline, image: np.ndarray) -> PhotoCheck:
    """Analyse an enrolment photo once: how many faces, and the one person's embedding."""
    frame = pipeline.analyse(image, max_faces=4)
    if not frame.faces:
        return PhotoCheck(0, None, frame.problem or "照片中没有检测到人脸，请换一张正面清晰的照片")
    faces = sorted(frame.faces, key=lambda f: f.box.area, reverse=True)
    if len(faces) > 1 and faces[1].box.area >= AMBIGUOUS_AREA * faces[0].box.area:
        return PhotoCheck(len(faces), None, f"照片中有 {len(faces)} 张人脸，请只拍本人")
    face = faces[0]
    return PhotoCheck(len(faces), EnrolmentFace(face.vector, (face.box.x, face.box.y, face.box.w, face.box.h)), None)


def enrolment_embedding(pipeline: FacePipeline, image: np.ndarray) -> EnrolmentFace:
    """The embedding of the one person in an enrolment photo."""
    checked = check_enrolment_photo(pipeline, image)
    if checked.face is None:
        raise EnrolmentError(checked.problem or "照片不可用")
    return checked.face


def folder_gallery(pipeline: FacePipeline, folder: Path, *, threshold: float | None = None,
                   min_margin: float = 0.0) -> tuple[Gallery, list[str]]:
    """A gallery from ``folder/<person>/<photos>``; returns it and a list of warnings."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EnrolmentError(f"照片库目录不存在: {folder}")
    gallery = Gallery.for_embedder(pipeline.embedder, threshold=threshold, min_margin=min_margin)
    warnings: list[str] = []
    for person_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        vectors = []
        for photo in sorted(p for p in person_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            try:
                vectors.append(enrolment_embedding(pipeline, read_image(photo)).vector)
            except EnrolmentError as exc:
                warnings.append(f"{photo}: {exc}")
        if vectors:
            gallery.add(Member(person_dir.name, person_dir.name), vectors)
        else:
            warnings.append(f"{person_dir}: 没有可用的照片")
    return gallery, warnings
