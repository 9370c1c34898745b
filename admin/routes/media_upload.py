"""Media upload: ``POST /api/media`` (multipart field ``file``)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Query, UploadFile
from starlette.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select

from admin.crud import audit
from admin.deps import CtxDep, CurrentUser, Editor, SessionDep
from admin.models import MediaFile
from admin.uploads import ALLOWED, UploadRejected, detect_type, inspect_image, safe_name

from admin.routes.limits import MAX_OFFSET

router = APIRouter(prefix="/api/media", tags=["media"])
CHUNK = 1024 * 1024


class MediaOut(BaseModel):
    sha256: str
    mime: str
    size: int
    name: str
    width: int | None = None
    height: int | None = None
    url: str
    thumb_url: str | None = None
    created_at: dt.datetime

    def ref(self) -> dict:
        return {"sha256": self.sha256, "mime": self.mime, "size": self.size, "name": self.name,
                "width": self.width, "height": self.height}


def media_out(row: MediaFile) -> MediaOut:
    return MediaOut(sha256=row.sha256, mime=row.mime, size=row.size, name=row.name, width=row.width,
                    height=row.height, url=f"/media/{row.sha256}",
                    thumb_url=f"/media/{row.thumb_sha256}" if row.thumb_sha256 else None, created_at=row.created_at)


@router.post("", response_model=MediaOut, status_code=201,
             summary="上传媒体（JPEG/PNG/WebP/MP3/OGG/WAV/MP4；类型按文件内容判断）",
             responses={413: {"description": "文件过大"}, 415: {"description": "不支持的文件类型"}})
async def upload(file: UploadFile, session: SessionDep, user: Editor, ctx: CtxDep) -> MediaOut:
    # A body larger than the limit never gets here: BodyLimitMiddleware
    # answers 413 while it streams in. This bounds the file part alone.
    limit = ctx.settings.max_upload_bytes
    chunks, total = [], 0
    while chunk := await file.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise HTTPException(413, f"文件超过上限 {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise HTTPException(422, "文件为空")
    mime = detect_type(data[:64])
    if mime is None or mime not in ALLOWED:
        raise HTTPException(415, "不支持的文件类型：只接受 JPEG、PNG、WebP、MP3、OGG、WAV、MP4")
    width = height = thumb_sha = None
    if mime.startswith("image/"):
        try:
            # Decoding takes CPU seconds for a large picture: off the event loop.
            info = await run_in_threadpool(inspect_image, data, max_pixels=ctx.settings.max_image_pixels)
        except UploadRejected as exc:
            raise HTTPException(exc.status_code, str(exc)) from exc
        width, height = info.width, info.height
        if info.thumbnail:
            thumb_sha = ctx.store.put_bytes(info.thumbnail)
    sha = ctx.store.put_bytes(data)
    row = session.get(MediaFile, sha)
    if row is None:
        row = MediaFile(sha256=sha, mime=mime, size=len(data), name=safe_name(file.filename), width=width,
                        height=height, thumb_sha256=thumb_sha, uploaded_by=user.id)
        session.add(row)
        audit.record(session, user=user, action="media_upload", target=sha, detail=f"{row.name} {mime} {len(data)}")
        session.commit()
    return media_out(row)


@router.get("", response_model=list[MediaOut], summary="媒体库")
def list_media(session: SessionDep, _: CurrentUser, limit: int = Query(100, ge=1, le=500),
               offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> list[MediaOut]:
    rows = session.scalars(select(MediaFile).order_by(MediaFile.created_at.desc()).limit(limit).offset(offset))
    return [media_out(r) for r in rows]


@router.get("/{sha256}", response_model=MediaOut, summary="媒体信息")
def media_info(sha256: str, session: SessionDep, _: CurrentUser) -> MediaOut:
    row = session.get(MediaFile, sha256)
    if row is None:
        raise HTTPException(404, "媒体不存在")
    return media_out(row)


@router.get("/{sha256}/thumb", summary="缩略图", response_class=RedirectResponse, status_code=307)
def thumbnail(sha256: str, session: SessionDep, _: CurrentUser) -> RedirectResponse:
    row = session.get(MediaFile, sha256)
    if row is None:
        raise HTTPException(404, "媒体不存在")
    return RedirectResponse(f"/media/{row.thumb_sha256 or row.sha256}", status_code=307)
