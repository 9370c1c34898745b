"""Content-addressed media over HTTP: ``GET /media/{sha256}``.

Manifests and media files are both served here, named by the sha256 of their
bytes, so a URL's content never changes: strong ETag, Range requests for
resumable downloads of large videos, and a year of immutable caching so a
caching reverse proxy can carry a large fleet. In the admin, only published
media is public; the rest needs a signed-in user (``admin.media_access``).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from admin.deps import cached_reader
from admin.media_access import media_access
from content.store import MediaStore

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, max-age=86400, immutable"
SMALL_FILE = 512 * 1024

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),  # MPEG-1 layer III frame sync
    (b"\xff\xf3", "audio/mpeg"),  # MPEG-2 layer III
    (b"\xff\xf2", "audio/mpeg"),
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

    @router.head("/media/{sha256}", summary="媒体或清单是否存在（按内容哈希）", operation_id="head_media")
    @router.get("/media/{sha256}", summary="按内容哈希获取媒体或清单", operation_id="get_media")
    async def get_media(sha256: str, request: Request) -> Response:
        if not _SHA_RE.match(sha256):
            raise HTTPException(status_code=400, detail="媒体标识必须是 64 位小写十六进制 sha256")
        etag = f'"{sha256}"'
        headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
        access = media_access(request)
        if access is not None and not access.known_public(sha256) \
                and not await run_in_threadpool(access.is_public, sha256):
            # Not published (a draft's upload, a screenshot): only for signed-in users,
            # and never kept by a shared cache.
            try:
                await cached_reader(request)  # the same sign-in check as the admin's other reads
            except HTTPException:
                raise HTTPException(status_code=401, detail="该媒体尚未发布，请先登录",
                                    headers={"WWW-Authenticate": "Bearer"}) from None
            headers["Cache-Control"] = PRIVATE
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        path = store.path(sha256)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise HTTPException(status_code=404, detail="媒体不存在") from None
        if size <= SMALL_FILE and "range" not in request.headers:
            # Manifests and pictures: one read in the loop beats the threadpool
            # hops of a streamed response when a whole fleet fetches at once.
            data = path.read_bytes()
            body = b"" if request.method == "HEAD" else data
            return Response(content=body, media_type=sniff_type(data[:16]), headers=headers)
        with open(path, "rb") as fh:
            mime = sniff_type(fh.read(16))
        return FileResponse(path, media_type=mime, headers=headers)

    return router


class MediaServer:
    """A media-only HTTP server in a background thread: for benchmarks and
    tests of the delivery path without the whole admin."""

    def __init__(self, store: MediaStore, *, host: str = "127.0.0.1", port: int = 0,
                 tls_cert: str | None = None, tls_key: str | None = None) -> None:
        import socket

        import uvicorn
        from fastapi import FastAPI

        app = FastAPI(title="media", docs_url=None, redoc_url=None, openapi_url=None)
        app.include_router(media_router(store))
        if port == 0:
            with socket.socket() as sock:
                sock.bind((host, 0))
                port = sock.getsockname()[1]
        self.host, self.port = host, port
        self.scheme = "https" if tls_cert else "http"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     access_log=False, backlog=4096,
                                                     ssl_certfile=tls_cert, ssl_keyfile=tls_key))

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> "MediaServer":
        import threading
        import time

        self._thread = threading.Thread(target=self._server.run, name="media-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            raise RuntimeError("media server did not start")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)
