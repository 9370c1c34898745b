"""Face enrolment (人脸录入), withdrawal, and the signed gallery bundle robots fetch.

Privacy by design (DESIGN.md "Faces"):

- a member is enrolled only when ``consent_face`` is recorded on their row;
  consent is checked before a single photo byte is read;
- only embeddings are kept, in robot/face's encrypted ``EmbeddingVault``; the
  key comes from ``HALL_FACE_VAULT_KEY`` / ``HALL_FACE_VAULT_KEY_FILE``, never the
  database; photos are discarded unless ``HALL_FACE_KEEP_PHOTOS=true`` (then
  they are sealed in the vault like everything else);
- the audit log records who enrolled or deleted whom and how many photos,
  never an image or an embedding;
- deleting the member (``on_member_deleted``) or withdrawing consent
  (``on_consent_withdrawn``, or ``DELETE /api/members/{id}/face``) deletes
  every embedding and photo.

Which faces a device receives: the members expected at the *published*
meetings whose ``check_in_devices`` list that device, from now to 24 hours
ahead (``robot.face.bundle.members_for_device``). Not the whole branch: a
robot that only needs tens of faces never holds hundreds, and a smaller
gallery also keeps 1:N false accepts down (robot/face/README.md,
"Thresholds"). A meeting with no check-in device gets no face check-in. If the
device's group does not carry meetings at all, its bundle is empty.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from admin.crud import audit
from admin.deps import CtxDep, Editor, SessionDep
from admin.faces import FACE_KINDS, face_services, live_meetings
from admin.models import Device, DeviceGroup, Member
from admin.provisioning import check_device_password
from admin.routes.devices import _device_credentials
from admin.uploads import detect_type, safe_name

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["faces"])

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png")

MSG_NO_CONSENT = "该党员未记录人脸采集同意，不能录入人脸（请先在党员信息中登记本人同意）"
MSG_NO_MEMBER = "党员不存在"
MSG_DEVICE_AUTH = "设备认证失败"


class PhotoResult(BaseModel):
    index: int
    filename: str
    faces: int
    used: bool
    problem: str | None = None


class FaceEnrolOut(BaseModel):
    member_id: str
    photos: list[PhotoResult]
    embeddings: int
    photos_kept: int


class FaceStatusOut(BaseModel):
    member_id: str
    consent_face: bool
    enrolled: bool
    embeddings: int = 0
    photos_kept: int = 0
    consent_by: str | None = None


def _vault_or_503(ctx: Any):
    from robot.face.errors import FaceError

    try:
        return face_services(ctx).get_vault()
    except FaceError as exc:
        raise HTTPException(503, f"人脸库不可用：{exc}") from exc


def delete_member_faces(ctx: Any, member_id: str) -> bool:
    """Delete every embedding and photo of a member; True when there was any.

    A vault that exists but cannot be opened (key missing or wrong) is an
    error, not "nothing to delete": the caller's transaction must fail rather
    than report a deletion that did not happen."""
    services = face_services(ctx)
    if not services.vault_exists():
        return False  # nothing was ever enrolled on this admin
    deleted = _vault_or_503(ctx).delete_member(member_id)
    if deleted:
        log.info("face data of member %s deleted", member_id)
    return deleted


def on_member_deleted(ctx: Any, member_id: str) -> bool:
    """Call from ``DELETE /api/members/{id}`` before its commit."""
    return delete_member_faces(ctx, member_id)


def on_consent_withdrawn(ctx: Any, member_id: str) -> bool:
    """Call when a member's ``consent_face`` turns false, before the commit."""
    return delete_member_faces(ctx, member_id)


@router.get("/members/{member_id}/face", response_model=FaceStatusOut, summary="人脸录入状态（不含任何特征值）")
def face_status(member_id: str, session: SessionDep, _: Editor, ctx: CtxDep) -> FaceStatusOut:
    member = session.get(Member, member_id)
    if member is None:
        raise HTTPException(404, MSG_NO_MEMBER)
    record = _vault_or_503(ctx).member(member_id) if face_services(ctx).vault_exists() else None
    return FaceStatusOut(member_id=member_id, consent_face=member.consent_face, enrolled=record is not None,
                         embeddings=record.embeddings if record else 0, photos_kept=record.photos if record else 0,
                         consent_by=record.consent_by if record else None)


@router.post("/members/{member_id}/face", response_model=FaceEnrolOut, status_code=201,
             summary="录入人脸：上传 1–5 张本人照片，只保存加密的人脸特征",
             responses={409: {"description": "未记录本人同意"}, 413: {"description": "照片过大"},
                        415: {"description": "不是 JPEG/PNG"}, 422: {"description": "没有可用的人脸"},
                        503: {"description": "人脸库未配置密钥"}})
def enrol_face(member_id: str, session: SessionDep, user: Editor, ctx: CtxDep,
               photos: list[UploadFile] = File(..., description="1 到 5 张本人正面照片（JPEG 或 PNG）"),
               merge: bool = Query(False, description="与已有特征合并（默认替换）")) -> Any:
    member = session.get(Member, member_id)
    if member is None:
        raise HTTPException(404, MSG_NO_MEMBER)
    # Consent first: without it not one byte of a photo is read.
    if not member.consent_face:
        raise HTTPException(409, MSG_NO_CONSENT)
    if not 1 <= len(photos) <= MAX_PHOTOS:
        raise HTTPException(422, f"请上传 1 到 {MAX_PHOTOS} 张照片")
    services = face_services(ctx)
    blobs: list[bytes] = []
    names: list[str] = []
    for number, upload in enumerate(photos, 1):
        data = upload.file.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            raise HTTPException(413, f"第 {number} 张照片过大（上限 {MAX_PHOTO_BYTES // 1024 // 1024} MB）")
        # The type comes from the bytes, never the file name or the client's Content-Type.
        if detect_type(data[:16]) not in PHOTO_TYPES:
            raise HTTPException(415, f"第 {number} 张不是 JPEG 或 PNG 图片")
        blobs.append(data)
        names.append(safe_name(upload.filename, fallback=f"photo-{number}"))
    vault = _vault_or_503(ctx)  # after the cheap checks: a bad request is a 4xx even when the vault is not set up
    results, vectors, used = [], [], []
    for number, (data, name) in enumerate(zip(blobs, names), 1):
        checked = services.check_photo(data)
        results.append(PhotoResult(index=number, filename=name, faces=checked.faces, used=checked.face is not None,
                                   problem=checked.problem))
        if checked.face is not None:
            vectors.append(checked.face.vector)
            used.append(data)
    if not vectors:
        return JSONResponse({"detail": "没有一张照片可用：每张照片须有且只有本人一张清晰的正面人脸",
                             "photos": [r.model_dump() for r in results]}, status_code=422)
    from robot.face.errors import FaceError

    try:
        record = vault.enrol(member_id, member.name, vectors, model=services.get_pipeline().embedder.name,
                             consent=True, consent_by=user.name, photos=used, replace=not merge)
    except FaceError as exc:
        raise HTTPException(422, str(exc)) from exc
    finally:
        blobs.clear()
        used.clear()  # nothing keeps the photos beyond this request (unless the vault sealed them)
    audit.record(session, user=user, action="face_enrol", target=member_id,
                 detail=f"照片 {len(results)} 张，可用 {len(vectors)} 张，特征 {record.embeddings} 条，"
                        f"保存照片 {record.photos} 张，{'合并' if merge else '替换'}")
    session.commit()
    return FaceEnrolOut(member_id=member_id, photos=results, embeddings=record.embeddings, photos_kept=record.photos)


@router.delete("/members/{member_id}/face", summary="删除人脸数据（撤回同意）：全部特征和照片")
def delete_face(member_id: str, session: SessionDep, user: Editor, ctx: CtxDep,
                withdraw_consent: bool = Query(True, description="同时把人脸采集同意记为撤回")) -> dict[str, Any]:
    member = session.get(Member, member_id)
    deleted = delete_member_faces(ctx, member_id)
    if member is None and not deleted:
        raise HTTPException(404, MSG_NO_MEMBER)
    if member is not None and withdraw_consent:
        member.consent_face = False
    audit.record(session, user=user, action="face_delete", target=member_id,
                 detail=f"删除人脸数据={'是' if deleted else '无数据'} 撤回同意={'是' if withdraw_consent else '否'}")
    session.commit()
    return {"member_id": member_id, "deleted": deleted, "consent_face": bool(member and member.consent_face)}


def _authenticated_device(request: Request, session, ctx, device_id: str) -> Device:  # noqa: ANN001
    creds = _device_credentials(request)
    if creds is None or not check_device_password(session, ctx.settings, device_id=creds[0], password=creds[1]):
        raise HTTPException(401, MSG_DEVICE_AUTH, headers={"WWW-Authenticate": 'Basic realm="hall"'})
    if creds[0] != device_id:
        raise HTTPException(403, "设备只能获取自己的人脸库包")
    device = session.get(Device, device_id)
    if device is None:
        raise HTTPException(404, "设备不存在")
    if device.kind not in FACE_KINDS:
        raise HTTPException(403, "该类设备不做人脸签到")
    return device


@router.get("/devices/{device_id}/face-bundle", response_class=Response,
            summary="设备的人脸库包（签名、可加密；设备用 MQTT 账号做 HTTP Basic 认证）",
            responses={401: {"description": "设备认证失败"}, 403: {"description": "不是本设备或不做签到"},
                       404: {"description": "设备不存在"}, 503: {"description": "人脸库未配置"}})
def face_bundle(device_id: str, request: Request, session: SessionDep, ctx: CtxDep) -> Response:
    from robot.face.bundle import bundle_from_vault, device_seal_key, members_for_device
    from robot.face.errors import FaceError

    # Synchronous on purpose: the password check may hash with argon2 and the
    # bundle reads the vault; FastAPI runs this in its thread pool.
    device = _authenticated_device(request, session, ctx, device_id)
    services = face_services(ctx)
    vault = _vault_or_503(ctx)
    group = session.get(DeviceGroup, device.groups[0]) if device.groups else None
    meetings = live_meetings(session, group_kinds=group.kinds if group is not None else None)
    try:
        seal_key = device_seal_key(services.config, device_id)
        expected = members_for_device(meetings, device_id)
        hidden = session.scalars(select(Member.id).where(Member.id.in_(expected),
                                                         Member.consent_display_name.is_(False))).all()
        data = bundle_from_vault(vault, meetings, device_id=device_id, embedder=services.get_pipeline().embedder,
                                 signer=ctx.signer, site_id=ctx.settings.site_id, seal_key=seal_key,
                                 withhold_names=hidden)
    except FaceError as exc:
        raise HTTPException(503, f"人脸库包无法生成：{exc}") from exc
    audit.record(session, user=f"device:{device_id}", action="face_bundle", target=device_id,
                 detail=f"应到成员 {len(expected)} 人，加密={'是' if seal_key else '否'}")
    session.commit()
    return Response(data, media_type="application/json", headers={"Cache-Control": "no-store"})
