"""Upload checks: the type comes from the bytes (never the name or the
client's Content-Type), names are reduced to a safe display name, images are
decoded once to prove they are images and to make a thumbnail."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

ALLOWED = {
    "image/jpeg", "image/png", "image/webp",
    "audio/mpeg", "audio/ogg", "audio/wav",
    "video/mp4",
}
THUMB_SIZE = (320, 320)


class UploadRejected(Exception):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def detect_type(head: bytes) -> str | None:
    """The media type of the first bytes of a file, or None when not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06 != 0):
        return "audio/mpeg"  # ID3 tag, or an MPEG audio frame sync with a layer set
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return None


_UNSAFE = re.compile(r"[\\/:*?\"<>|]")


def safe_name(raw: str | None, *, fallback: str = "file") -> str:
    """A display name without directories, control characters or reserved marks."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:120] or fallback


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    thumbnail: bytes | None


def inspect_image(data: bytes) -> ImageInfo:
    """Decode the image fully (a truncated or disguised file is refused) and
    render a thumbnail."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            width, height = img.size
            thumb = img.convert("RGB")
            thumb.thumbnail(THUMB_SIZE)
            out = io.BytesIO()
            thumb.save(out, format="JPEG", quality=80)
            return ImageInfo(width, height, out.getvalue())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UploadRejected(f"图片无法解码：{exc}", 415) from exc
