"""Device groups, playlists, dayparting rules, the 7-day timeline and publishing."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from admin.compile import build_manifest, group_schedule
from admin.crud import audit
from admin.deps import CtxDep, CurrentUser, Publisher, SessionDep
from admin.models import DeviceGroup, Item, Playlist, ScheduleRule
from admin.publishing import publish_group
from content import model as cm
from content.model import ITEM_KINDS
from content import schedule as sched

router = APIRouter(prefix="/api", tags=["schedule"])
NAME = r"^[A-Za-z0-9_.\-]+$"
ITEM_KIND = Literal[ITEM_KINDS]  # type: ignore[valid-type]


class GroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=NAME)
    description: str = Field(default="", max_length=200)
    default_playlist_id: str | None = Field(default=None, max_length=64)
    kinds: list[ITEM_KIND] = Field(default_factory=list, description="该组清单包含的内容类型；空表示全部")


class GroupOut(GroupIn):
    manifest_version: int
    manifest_sha256: str | None
    published_at: dt.datetime | None
    publish_pending: bool


class EntryIn(BaseModel):
    item_id: str = Field(min_length=1, max_length=64)
    duration_s: float = Field(default=10.0, gt=0, le=3600)


class PlaylistIn(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=NAME)
    name: str = Field(min_length=1, max_length=100)
    entries: list[EntryIn] = Field(default_factory=list, max_length=500)


class RuleIn(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=NAME)
    group: str = Field(min_length=1, max_length=64)
    playlist_id: str = Field(min_length=1, max_length=64)
    priority: int = Field(default=0, ge=-1000, le=1000)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    weekdays: list[int] | None = None
    time_from: dt.time | None = None
    time_to: dt.time | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 0 <= d <= 6 for d in value):
            raise ValueError("星期取值 0（周一）到 6（周日）")
        return value

    @field_validator("time_from", "time_to")
    @classmethod
    def _naive_time(cls, value: dt.time | None) -> dt.time | None:
        return value.replace(tzinfo=None) if value is not None else None


def _group_out(g: DeviceGroup) -> GroupOut:
    return GroupOut(name=g.name, description=g.description, default_playlist_id=g.default_playlist_id,
                    kinds=g.kinds or [],
                    manifest_version=g.manifest_version, manifest_sha256=g.manifest_sha256,
                    published_at=g.published_at, publish_pending=g.publish_pending)


def _group(session, name: str) -> DeviceGroup:  # noqa: ANN001
    group = session.get(DeviceGroup, name)
    if group is None:
        raise HTTPException(404, "设备组不存在")
    return group


# -- groups ----------------------------------------------------------------------
@router.get("/groups", response_model=list[GroupOut], summary="设备组")
def list_groups(session: SessionDep, _: CurrentUser) -> list[GroupOut]:
    return [_group_out(g) for g in session.scalars(select(DeviceGroup).order_by(DeviceGroup.name))]


@router.post("/groups", response_model=GroupOut, status_code=201, summary="新建或修改设备组")
def put_group(body: GroupIn, session: SessionDep, user: Publisher) -> GroupOut:
    if body.default_playlist_id and session.get(Playlist, body.default_playlist_id) is None:
        raise HTTPException(422, "默认播放列表不存在")
    group = session.get(DeviceGroup, body.name) or DeviceGroup(name=body.name)
    group.description, group.default_playlist_id, group.kinds = body.description, body.default_playlist_id, body.kinds
    session.add(group)
    audit.record(session, user=user, action="group_save", target=body.name)
    session.commit()
    return _group_out(group)


@router.post("/groups/{name}/publish", summary="编译、签名并发布该组清单（未变化时不重复发布）")
def publish(name: str, session: SessionDep, user: Publisher, ctx: CtxDep) -> dict[str, Any]:
    group = _group(session, name)
    result = publish_group(ctx, session, group=group, user=user)
    session.commit()
    result["message"] = ("已发布" if result["delivered"] else "消息服务器暂不可用：已排队，恢复连接后自动发送"
                         ) if result["changed"] else "内容未变化，无需重新发布"
    return result


@router.get("/groups/{name}/manifest", summary="预览该组将要发布的清单")
def preview_manifest(name: str, session: SessionDep, _: CurrentUser, ctx: CtxDep) -> dict[str, Any]:
    manifest = build_manifest(session, group=_group(session, name), site_id=ctx.settings.site_id)
    return manifest.model_dump(mode="json")


@router.get("/groups/{name}/timeline", summary="未来 7 天的播放时间线与排期冲突")
def group_timeline(name: str, session: SessionDep, _: CurrentUser, ctx: CtxDep,
                   days: int = Query(7, ge=1, le=31)) -> dict[str, Any]:
    group = _group(session, name)
    schedule, playlists = group_schedule(session, group=group)
    manifest = cm.Manifest(site_id=ctx.settings.site_id, group=name, version=0, created_at=0, items=[],
                           playlists=playlists, schedule=schedule)
    start = dt.datetime.now(sched.zone_of(schedule.timezone)).replace(second=0, microsecond=0)
    names = {p.id: p.name for p in playlists}
    segments = [{"start": s.start.isoformat(), "end": s.end.isoformat(), "playlist_id": s.playlist_id,
                 "playlist_name": names.get(s.playlist_id or "", ""), "rule_id": s.rule_id}
                for s in sched.timeline(manifest, start, days=days)]
    return {"group": name, "timezone": schedule.timezone, "segments": segments,
            "conflicts": [list(pair) for pair in sched.conflicts(schedule)]}


# -- playlists ---------------------------------------------------------------------
@router.get("/playlists", response_model=list[PlaylistIn], summary="播放列表")
def list_playlists(session: SessionDep, _: CurrentUser) -> list[PlaylistIn]:
    return [PlaylistIn(id=p.id, name=p.name, entries=p.entries)
            for p in session.scalars(select(Playlist).order_by(Playlist.id))]


@router.post("/playlists", response_model=PlaylistIn, status_code=201, summary="新建或修改播放列表")
def put_playlist(body: PlaylistIn, session: SessionDep, user: Publisher) -> PlaylistIn:
    missing = [e.item_id for e in body.entries if session.get(Item, e.item_id) is None]
    if missing:
        raise HTTPException(422, f"播放列表引用了不存在的内容：{', '.join(missing)}")
    playlist = session.get(Playlist, body.id) or Playlist(id=body.id)
    playlist.name, playlist.entries = body.name, [e.model_dump() for e in body.entries]
    session.add(playlist)
    audit.record(session, user=user, action="playlist_save", target=body.id)
    session.commit()
    return body


# -- rules -------------------------------------------------------------------------
@router.get("/rules", response_model=list[RuleIn], summary="排期规则")
def list_rules(session: SessionDep, _: CurrentUser, group: str | None = Query(None, max_length=64)) -> list[RuleIn]:
    query = select(ScheduleRule).order_by(ScheduleRule.group, ScheduleRule.priority.desc(), ScheduleRule.id)
    if group:
        query = query.where(ScheduleRule.group == group)
    return [RuleIn.model_validate(r, from_attributes=True) for r in session.scalars(query)]


@router.post("/rules", response_model=RuleIn, status_code=201, summary="新建或修改排期规则（分时段）")
def put_rule(body: RuleIn, session: SessionDep, user: Publisher) -> RuleIn:
    _group(session, body.group)
    if session.get(Playlist, body.playlist_id) is None:
        raise HTTPException(422, "播放列表不存在")
    if body.date_from and body.date_to and body.date_from > body.date_to:
        raise HTTPException(422, "开始日期晚于结束日期")
    rule = session.get(ScheduleRule, body.id) or ScheduleRule(id=body.id)
    for key, value in body.model_dump().items():
        setattr(rule, key, value)
    session.add(rule)
    audit.record(session, user=user, action="rule_save", target=body.id, detail=f"{body.group} → {body.playlist_id}")
    session.commit()
    return body


@router.delete("/rules/{rule_id}", status_code=204, summary="删除排期规则")
def delete_rule(rule_id: str, session: SessionDep, user: Publisher) -> None:
    rule = session.get(ScheduleRule, rule_id)
    if rule is None:
        raise HTTPException(404, "规则不存在")
    session.delete(rule)
    audit.record(session, user=user, action="rule_delete", target=rule_id)
    session.commit()
