"""Content-addressed media over HTTP: ``GET /media/{sha256}``.

Manifests and media files are both served here, named by the sha256 of their
bytes, so a URL's content never changes: strong ETag, Range requests for
resumable downloads of large videos, and a year of immutable caching so a
caching reverse proxy can carry a large fleet.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse

from content.store import MediaStore

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
IMMUTABLE = "public, max-age=31536000, immutable"

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"{", "application/json"),
    (b"glTF", "model/gltf-binary"),
)


def sniff_type(head: bytes) -> str:
    """The type from the first bytes (never from a name)."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"


def media_router(store: MediaStore) -> APIRouter:
    router = APIRouter(tags=["media"])

    @router.api_route("/media/{sha256}", methods=["GET", "HEAD"], summary="按内容哈希获取媒体或清单")
    def get_media(sha256: str, request: Request) -> Response:
        if not _SHA_RE.match(sha256):
            raise HTTPException(status_code=400, detail="媒体标识必须是 64 位小写十六进制 sha256")
        if not store.has(sha256):
            raise HTTPException(status_code=404, detail="媒体不存在")
        etag = f'"{sha256}"'
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
        path = store.path(sha256)
        with open(path, "rb") as fh:
            mime = sniff_type(fh.read(16))
        return FileResponse(path, media_type=mime, headers={"ETag": etag, "Cache-Control": IMMUTABLE})

    return router
