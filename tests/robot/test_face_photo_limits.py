"""Enrolment photos: a decompression bomb is refused from its header, before
OpenCV decodes a pixel (a 14 KB PNG can declare 120 megapixels)."""

from __future__ import annotations

import io

import pytest


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def test_small_file_declaring_huge_pixels_is_refused():
    from robot.face.enrolment import decode_image
    from robot.face.errors import EnrolmentError

    bomb = _png(12_000, 10_000)
    assert len(bomb) < 100_000
    with pytest.raises(EnrolmentError, match="像素过多"):
        decode_image(bomb)


def test_ordinary_photo_and_non_image_still_behave():
    from robot.face.enrolment import decode_image
    from robot.face.errors import EnrolmentError

    assert decode_image(_png(640, 480)).shape == (480, 640, 3)
    with pytest.raises(EnrolmentError, match="无法识别"):
        decode_image(b"not an image at all")
