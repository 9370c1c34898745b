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


def inspect_image(data: bytes, *, max_pixels: int = 40_000_000) -> ImageInfo:
    """Decode the image fully (a truncated or disguised file is refused) and
    render a thumbnail. The declared size is checked before any pixel is
    decoded, so a small file claiming 50,000 x 50,000 pixels costs nothing."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise UploadRejected(f"图片像素过多（{width}×{height}），上限 {max_pixels // 10_000} 万像素", 413)
            img.load()
            thumb = img.convert("RGB")
            thumb.thumbnail(THUMB_SIZE)
            out = io.BytesIO()
            thumb.save(out, format="JPEG", quality=80)
            return ImageInfo(width, height, out.getvalue())
    except UploadRejected:
        raise
    except Image.DecompressionBombError as exc:  # beyond Pillow's own limit, raised while opening
        raise UploadRejected("图片像素过多，已拒绝", 413) from exc
    except Exception as exc:  # noqa: BLE001 - any failure to decode untrusted bytes is the uploader's
        # Pillow's plugins raise many types on malformed input (OSError,
        # SyntaxError, struct.error, EOFError, ValueError ...): all mean
        # "not a decodable image", translated here once.
        raise UploadRejected(f"图片无法解码：{type(exc).__name__}", 415) from exc
