"""Fixtures for the face tests: real photos fetched from the package registry at
test time into a cache (none are committed), the real dlib pipeline, and
embeddings computed once per session.

Imported explicitly by the tests that need them (``from face_fixtures import ...``);
tests/robot/conftest.py belongs to the robot package's engineer.

Photos: the ``face_recognition`` 1.3.0 sdist on PyPI (tests/test_images: obama*,
biden) and scikit-image's public-domain ``astronaut.png`` (the unknown person).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("HALL_TEST_FACE_CACHE", Path.home() / ".cache" / "dangjian-hall" / "faces"))
FACE_RECOGNITION_PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")


def _pip_download(args: list[str], dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    if result.returncode != 0:
        pytest.skip(f"package registry unreachable, cannot fetch test photos: {' '.join(args)}: "
                    f"{result.stderr.strip()[-300:]}")


def _fetch_face_recognition_photos() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _pip_download(["--no-binary", ":all:", "face_recognition==1.3.0"], Path(tmp))
        archive = next(Path(tmp).glob("face_recognition-1.3.0.tar.gz"))
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if member.isfile() and "/tests/test_images/" in member.name and name in FACE_RECOGNITION_PHOTOS:
                    source = tar.extractfile(member)
                    assert source is not None
                    (CACHE / name).write_bytes(source.read())


def _fetch_astronaut() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _pip_download(["--only-binary", ":all:", "scikit-image"], Path(tmp))
        wheel = next(Path(tmp).glob("scikit_image-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            (CACHE / "astronaut.png").write_bytes(zf.read("skimage/data/astronaut.png"))


@pytest.fixture(scope="session")
def face_photos() -> dict[str, Path]:
    """name (without suffix) -> path of a cached real photo."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if not all((CACHE / n).is_file() for n in FACE_RECOGNITION_PHOTOS):
        _fetch_face_recognition_photos()
    if not (CACHE / "astronaut.png").is_file():
        _fetch_astronaut()
    names = [*FACE_RECOGNITION_PHOTOS, "astronaut.png"]
    return {Path(n).stem: CACHE / n for n in names}


@pytest.fixture(scope="session")
def face_pipeline():
    from robot.face.config import FaceConfig
    from robot.face.pipeline import FacePipeline

    return FacePipeline.from_config(FaceConfig())


@pytest.fixture(scope="session")
def face_vectors(face_photos, face_pipeline):
    """name -> embedding of the one face in that photo (computed once)."""
    from robot.face.enrolment import enrolment_embedding, read_image

    return {name: enrolment_embedding(face_pipeline, read_image(path)).vector for name, path in face_photos.items()}


@pytest.fixture()
def gallery_dir(tmp_path, face_photos) -> Path:
    """A folder gallery: A = obama (one photo), B = biden."""
    root = tmp_path / "gallery"
    (root / "obama").mkdir(parents=True)
    (root / "biden").mkdir()
    shutil.copy(face_photos["obama"], root / "obama" / "1.jpg")
    shutil.copy(face_photos["biden"], root / "biden" / "1.jpg")
    return root
