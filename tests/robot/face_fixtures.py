"""Fixtures for the face tests: real photos fetched from the package registry at
test time into a cache (none are committed), the real dlib pipeline, and
embeddings computed once per session.

Imported explicitly by the tests that need them (``from face_fixtures import ...``);
tests/robot/conftest.py belongs to the robot package's engineer.

Photos: the ``face_recognition`` 1.3.0 sdist on PyPI (tests/test_images: obama*,
biden) and scikit-image's public-domain ``astronaut.png`` (the unknown person).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def face_photos() -> dict[str, Path]:
    """name (without suffix) -> path of a cached real photo (fetched once from the registry)."""
    from robot.face.samples import SampleFetchError, fetch_sample_photos

    try:
        return fetch_sample_photos()
    except (SampleFetchError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"package registry unreachable, cannot fetch the test photos: {exc}")


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
