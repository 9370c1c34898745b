"""The fleet: live list, provisioning, commands, screenshots."""

from __future__ import annotations

import base64
import datetime as dt
from functools import lru_cache, partial
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import DateTime, Select, bindparam, case, func, select

from admin.context import AdminContext
from admin.crud import audit
from admin.deps import Admin, CachedReader, CtxDep, CurrentUser, OptionalUser, Publisher, SessionDep
from admin.listcache import Built, cache_for, json_response
from admin.models import CommandLog, Device, DeviceGroup, utcnow
from admin.provisioning import KINDS, ProvisionError, check_device_password, provision_device
from admin.uploads import detect_type
from broker.messages import DeviceCommand

from admin.routes.limits import MAX_OFFSET

router = APIRouter(prefix="/api/devices", tags=["devices"])
Kind = Literal[KINDS]  # type: ignore[valid-type]
# A device that sent nothing for this long is shown offline even without its will.
STALE_AFTER = dt.timedelta(minutes=3)
MAX_SCREENSHOT = 20 * 1024 * 1024


class DeviceOut(BaseModel):
    id: str
    kind: str
    name: str
    groups: list[str]
    online: bool
    last_seen: dt.datetime | None
    desired_version: int | None
    applied_version: int | None
    in_sync: bool
    status: str | None
    error: str | None
    telemetry: dict[str, Any]
    screenshot_url: str | None


class DeviceList(BaseModel):
    total: int
    online: int
    devices: list[DeviceOut]


class DeviceIn(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    kind: Kind
    groups: list[str] = Field(min_length=1, max_length=20)
    name: str = Field(default="", max_length=100)


class CommandIn(BaseModel):
    command: Literal["reload", "screenshot", "restart", "ping"]
    expires_in_s: int = Field(default=60, ge=5, le=3600)


class CommandOut(BaseModel):
    request_id: str
    device_id: str
    command: str
    created_by: str
    created_at: dt.datetime
    ok: bool | None
    error: str | None
    result: dict[str, Any]
    replied_at: dt.datetime | None
    sent: bool | None = None


def device_out(d: Any, desired: dict[str, int], now: dt.datetime) -> DeviceOut:
    """From a Device, or from a row of its columns (the list selects only those)."""
    group = d.reported_group if d.reported_group in desired else next((g for g in d.groups if g in desired), None)
    want = desired.get(group) if group else None
    online = d.online and d.last_seen is not None and now - d.last_seen < STALE_AFTER
    return DeviceOut(id=d.id, kind=d.kind, name=d.name, groups=d.groups, online=online, last_seen=d.last_seen,
                     desired_version=want, applied_version=d.applied_version,
                     in_sync=want is not None and d.applied_version == want, status=d.reported_status,
                     error=d.reported_error, telemetry=d.telemetry or {},
                     screenshot_url=f"/media/{d.screenshot_sha256}" if d.screenshot_sha256 else None)


def desired_versions(session) -> dict[str, int]:  # noqa: ANN001
    rows = session.execute(select(DeviceGroup.name, DeviceGroup.manifest_version)
                           .where(DeviceGroup.manifest_version > 0))
    return {name: version for name, version in rows}


def _get(session, device_id: str) -> Device:  # noqa: ANN001
    device = session.get(Device, device_id)
    if device is None:
        raise HTTPException(404, "设备不存在")
    return device


# Only what the list shows: the password digest, hashes and times it does not
# show stay in the database.
_LIST_COLUMNS = (Device.id, Device.kind, Device.name, Device.groups, Device.online, Device.last_seen,
                 Device.applied_version, Device.reported_group, Device.reported_status, Device.reported_error,
                 Device.telemetry, Device.screenshot_sha256)


@lru_cache(maxsize=2)
def _list_statements(by_kind: bool) -> tuple[Select, Select]:
    """The count and page queries, built once (building a statement costs more
    than running it from SQLAlchemy's compiled cache); values are bound per call."""
    is_live = Device.online.is_(True) & (Device.last_seen >= bindparam("stale_before", type_=DateTime))
    counts = select(func.count(), func.coalesce(func.sum(case((is_live, 1), else_=0)), 0),
                    func.min(case((is_live, Device.last_seen)))).select_from(Device)
    page = select(*_LIST_COLUMNS).order_by(Device.id).limit(bindparam("limit")).offset(bindparam("offset"))
    if by_kind:
        counts, page = counts.where(Device.kind == bindparam("kind")), page.where(Device.kind == bindparam("kind"))
    return counts, page


def device_page(ctx: AdminContext, *, kind: str | None, group: str | None, limit: int, offset: int) -> Built:
    """One page of the live list as JSON, and when it goes stale by the clock
    alone: the moment the first device shown online passes STALE_AFTER."""
    now = utcnow()
    with ctx.sessions() as session:
        desired = desired_versions(session)
        if group:
            # Group membership is a JSON list: filter in Python (a site has hundreds
            # of devices, not millions).
            query = select(*_LIST_COLUMNS).order_by(Device.id)
            if kind:
                query = query.where(Device.kind == kind)
            rows = [d for d in session.execute(query) if group in d.groups]
            total, page = len(rows), rows[offset:offset + limit]
            live = [d.last_seen for d in rows if d.online and d.last_seen and now - d.last_seen < STALE_AFTER]
            online, oldest_live = len(live), min(live, default=None)
        else:
            counts, query = _list_statements(kind is not None)
            values = {"stale_before": now - STALE_AFTER, "kind": kind, "limit": limit, "offset": offset}
            total, online, oldest_live = session.execute(counts, values).one()
            page = list(session.execute(query, values))
        body = DeviceList(total=total, online=online, devices=[device_out(d, desired, now) for d in page])
    return Built(body.model_dump_json().encode(),
                 valid_until=oldest_live + STALE_AFTER if oldest_live is not None else None)


@router.get("", response_model=DeviceList, summary="设备实时列表",
            responses={304: {"description": "列表未变化（If-None-Match 与 ETag 相同）"}})
async def list_devices(request: Request, ctx: CtxDep, _: CachedReader, kind: Kind | None = None,
                       group: str | None = Query(None, max_length=64), limit: int = Query(100, ge=1, le=1000),
                       offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Response:
    # Served from the list cache (admin.listcache): rebuilt after any committed
    # change to devices or groups, and when the first device shown online turns stale.
    entry = await cache_for(ctx).get("devices", ("devices", kind, group, limit, offset),
                                     partial(device_page, ctx, kind=kind, group=group, limit=limit, offset=offset))
    return json_response(request, entry)


@router.post("", status_code=201, summary="登记设备并生成其配置（密码只显示这一次）")
def add_device(body: DeviceIn, session: SessionDep, admin: Admin, ctx: CtxDep) -> dict[str, Any]:
    try:
        device, env = provision_device(session, ctx.settings, device_id=body.id, kind=body.kind,
                                       groups=body.groups, name=body.name)
    except ProvisionError as exc:
        raise HTTPException(422, str(exc)) from exc
    audit.record(session, user=admin, action="device_add", target=device.id, detail=f"{body.kind} {body.groups}")
    session.commit()
    return {"device": device_out(device, desired_versions(session), utcnow()).model_dump(mode="json"),
            "config": env}


@router.get("/{device_id}", response_model=DeviceOut, summary="设备详情")
def get_device(device_id: str, session: SessionDep, _: CurrentUser) -> DeviceOut:
    return device_out(_get(session, device_id), desired_versions(session), utcnow())


@router.post("/{device_id}/commands", response_model=CommandOut, status_code=201,
             summary="下发命令：reload 重新加载、screenshot 截屏、restart 重启、ping")
def send_command(device_id: str, body: CommandIn, session: SessionDep, user: Publisher, ctx: CtxDep) -> CommandOut:
    _get(session, device_id)
    expires = utcnow() + dt.timedelta(seconds=body.expires_in_s)
    message = DeviceCommand(site_id=ctx.settings.site_id, device_id=device_id, command=body.command,
                            expires_at=expires.replace(tzinfo=dt.timezone.utc).timestamp())
    row = CommandLog(request_id=message.request_id, device_id=device_id, command=body.command,
                     created_by=user.name, expires_at=expires)
    session.add(row)
    audit.record(session, user=user, action="device_command", target=device_id, detail=body.command)
    session.commit()
    sent = ctx.publish_message(message)
    if not sent:
        row.ok, row.error = False, "消息服务器不可用，命令未发送"
        session.commit()
    return _command_out(row, sent)


@router.get("/{device_id}/commands", response_model=list[CommandOut], summary="命令记录")
def list_commands(device_id: str, session: SessionDep, _: CurrentUser) -> list[CommandOut]:
    rows = session.scalars(select(CommandLog).where(CommandLog.device_id == device_id)
                           .order_by(CommandLog.created_at.desc()).limit(50))
    return [_command_out(r) for r in rows]


def _command_out(row: CommandLog, sent: bool | None = None) -> CommandOut:
    return CommandOut(request_id=row.request_id, device_id=row.device_id, command=row.command,
                      created_by=row.created_by, created_at=row.created_at, ok=row.ok, error=row.error,
                      result=row.result or {}, replied_at=row.replied_at, sent=sent)


def _device_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return name, password


@router.post("/{device_id}/screenshot", status_code=201,
             summary="终端上传截图（PNG 原始字节；设备用 MQTT 账号做 HTTP Basic 认证）",
             responses={413: {"description": "过大"}, 415: {"description": "不是 PNG/JPEG"}})
async def upload_screenshot(device_id: str, request: Request, session: SessionDep, ctx: CtxDep,
                            user: OptionalUser) -> dict[str, Any]:
    device = _get(session, device_id) if user is not None else session.get(Device, device_id)
    if user is None:
        creds = _device_credentials(request)
        # The password check may hash with argon2: keep it off the event loop.
        if (creds is None or creds[0] != device_id
                or not await run_in_threadpool(check_device_password, session, ctx.settings, device_id=device_id,
                                               password=creds[1])):
            raise HTTPException(401, "设备认证失败", headers={"WWW-Authenticate": 'Basic realm="hall"'})
        device = session.get(Device, device_id)
        if device is None:
            raise HTTPException(404, "设备不存在")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_SCREENSHOT:
            raise HTTPException(413, "截图过大")
    if detect_type(bytes(data[:64])) not in ("image/png", "image/jpeg"):
        raise HTTPException(415, "截图必须是 PNG 或 JPEG")
    sha = ctx.store.put_bytes(bytes(data))
    device.screenshot_sha256, device.screenshot_at = sha, utcnow()
    session.commit()
    return {"sha256": sha, "url": f"/media/{sha}"}


@router.get("/{device_id}/screenshot", summary="最新截图", response_class=RedirectResponse, status_code=307)
def latest_screenshot(device_id: str, session: SessionDep, _: CurrentUser) -> RedirectResponse:
    device = _get(session, device_id)
    if not device.screenshot_sha256:
        raise HTTPException(404, "还没有截图")
    return RedirectResponse(f"/media/{device.screenshot_sha256}", status_code=307)


def fleet_summary(session) -> dict[str, int]:  # noqa: ANN001
    total = session.scalar(select(func.count()).select_from(Device)) or 0
    return {"total": total}
