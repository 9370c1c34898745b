"""Content items: CRUD with versions, and the review transitions."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from admin.context import AdminContext
from admin.crud import items as crud
from admin.deps import CachedReader, CtxDep, CurrentUser, Editor, Publisher, SessionDep
from admin.listcache import Built, cache_for, json_response
from admin.models import Item, ItemVersion
from admin.publishing import publish_all
from admin.review import STATUS_LABELS
from content.model import ITEM_KINDS

from admin.routes.limits import MAX_OFFSET

router = APIRouter(prefix="/api/items", tags=["items"])
Kind = Literal[ITEM_KINDS]  # type: ignore[valid-type]


class ItemOut(BaseModel):
    id: str
    kind: str
    title: str
    important: bool
    status: str
    status_label: str
    head_version: int | None = None
    live_version: int | None = None
    updated_at: dt.datetime


class ApprovalOut(BaseModel):
    level: int
    user_id: int
    decision: str
    comment: str
    at: dt.datetime


class VersionOut(BaseModel):
    number: int
    sha256: str
    status: str
    author_id: int | None
    created_at: dt.datetime
    data: dict[str, Any]
    approvals: list[ApprovalOut] = Field(default_factory=list)


class ItemDetail(ItemOut):
    head: VersionOut
    live: VersionOut | None = None
    versions: list[dict[str, Any]] = Field(default_factory=list)


class ItemList(BaseModel):
    total: int
    items: list[ItemOut]


class ItemCreate(BaseModel):
    data: dict[str, Any] = Field(description="内容字段，须含 kind 和 title；id 可省略（自动生成）")


class ItemUpdate(BaseModel):
    data: dict[str, Any]
    base_version: int | None = Field(default=None, description="编辑时所基于的版本号；过期则返回 409")


class Comment(BaseModel):
    comment: str = Field(default="", max_length=2000)


def _version_numbers(session, item: Item) -> tuple[int | None, int | None]:  # noqa: ANN001
    head = crud.version(session, version_id=item.head_version_id)
    live = crud.version(session, version_id=item.live_version_id)
    return (head.number if head else None), (live.number if live else None)


def item_out(session, item: Item) -> ItemOut:  # noqa: ANN001
    head, live = _version_numbers(session, item)
    return ItemOut(id=item.id, kind=item.kind, title=item.title, important=item.important, status=item.status,
                   status_label=STATUS_LABELS.get(item.status, item.status), head_version=head, live_version=live,
                   updated_at=item.updated_at)


def version_out(session, ver: ItemVersion) -> VersionOut:  # noqa: ANN001
    return VersionOut(number=ver.number, sha256=ver.sha256, status=ver.status, author_id=ver.author_id,
                      created_at=ver.created_at, data=ver.data,
                      approvals=[ApprovalOut(level=a.level, user_id=a.user_id, decision=a.decision,
                                             comment=a.comment, at=a.at)
                                 for a in crud.approvals(session, version_id=ver.id)])


def item_detail(session, item: Item) -> ItemDetail:  # noqa: ANN001
    base = item_out(session, item)
    head = crud.version(session, version_id=item.head_version_id)
    live = crud.version(session, version_id=item.live_version_id)
    return ItemDetail(**base.model_dump(), head=version_out(session, head),
                      live=version_out(session, live) if live else None,
                      versions=[{"number": v.number, "sha256": v.sha256, "status": v.status,
                                 "created_at": v.created_at.isoformat()}
                                for v in crud.versions(session, item_id=item.id)])


def _get(session, item_id: str) -> Item:  # noqa: ANN001
    item = crud.get(session, item_id=item_id)
    if item is None or item.retired:
        raise HTTPException(404, "内容不存在")
    return item


def item_page(ctx: AdminContext, *, kind: str | None, status: str | None, q: str | None, limit: int,
              offset: int) -> Built:
    with ctx.sessions() as session:
        rows, total = crud.list_rows(session, kind=kind, status=status, q=q, limit=limit, offset=offset)
    body = ItemList(total=total, items=[ItemOut(**r, status_label=STATUS_LABELS.get(r["status"], r["status"]))
                                        for r in rows])
    return Built(body.model_dump_json().encode())


@router.get("", response_model=ItemList, summary="内容列表",
            responses={304: {"description": "列表未变化（If-None-Match 与 ETag 相同）"}})
async def list_items(request: Request, ctx: CtxDep, _: CachedReader, kind: Kind | None = None,
                     status: str | None = None,
                     q: str | None = Query(default=None, max_length=100), limit: int = Query(50, ge=1, le=500),
                     offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Response:
    # Served from the list cache (admin.listcache): rebuilt after any committed
    # change to items or their versions.
    entry = await cache_for(ctx).get("items", ("items", kind, status, q, limit, offset),
                                     partial(item_page, ctx, kind=kind, status=status, q=q, limit=limit,
                                             offset=offset))
    return json_response(request, entry)


@router.post("", response_model=ItemDetail, status_code=201, summary="新建内容（草稿）")
def create_item(body: ItemCreate, session: SessionDep, user: Editor) -> ItemDetail:
    item, _ = crud.create(session, data=body.data, author=user)
    session.commit()
    return item_detail(session, item)


@router.get("/{item_id}", response_model=ItemDetail, summary="内容详情（含版本与审核记录）")
def get_item(item_id: str, session: SessionDep, _: CurrentUser) -> ItemDetail:
    return item_detail(session, _get(session, item_id))


@router.get("/{item_id}/versions/{number}", response_model=VersionOut, summary="某一版本")
def get_version(item_id: str, number: Annotated[int, Path(ge=1, le=1_000_000)], session: SessionDep,
                _: CurrentUser) -> VersionOut:
    ver = crud.version_by_number(session, item_id=item_id, number=number)
    if ver is None:
        raise HTTPException(404, "版本不存在")
    return version_out(session, ver)


@router.put("/{item_id}", response_model=ItemDetail, summary="编辑（已审核的内容会生成需重新审核的新版本）")
def update_item(item_id: str, body: ItemUpdate, session: SessionDep, user: Editor) -> ItemDetail:
    item = _get(session, item_id)
    crud.update(session, item=item, data=body.data, base_version=body.base_version, author=user)
    session.commit()
    return item_detail(session, item)


@router.post("/{item_id}/submit", response_model=ItemDetail, summary="提交审核")
def submit_item(item_id: str, session: SessionDep, user: CurrentUser) -> ItemDetail:
    item = _get(session, item_id)
    crud.submit(session, item=item, user=user)
    session.commit()
    return item_detail(session, item)


@router.post("/{item_id}/approve", response_model=ItemDetail, summary="审核通过（一级或二级）")
def approve_item(item_id: str, body: Comment, session: SessionDep, user: CurrentUser) -> ItemDetail:
    item = _get(session, item_id)
    crud.approve(session, item=item, user=user, comment=body.comment)
    session.commit()
    return item_detail(session, item)


@router.post("/{item_id}/reject", response_model=ItemDetail, summary="退回（须填写意见）")
def reject_item(item_id: str, body: Comment, session: SessionDep, user: CurrentUser) -> ItemDetail:
    item = _get(session, item_id)
    crud.reject(session, item=item, user=user, comment=body.comment)
    session.commit()
    return item_detail(session, item)


@router.post("/{item_id}/publish", summary="发布已批准的版本并更新各设备组清单")
def publish_item(item_id: str, session: SessionDep, user: Publisher, ctx: CtxDep) -> dict[str, Any]:
    item = _get(session, item_id)
    crud.publish(session, item=item, user=user)
    session.flush()
    results = publish_all(ctx, session, user=user)
    session.commit()
    return {"item": item_out(session, item).model_dump(mode="json"), "groups": results}


@router.delete("/{item_id}", status_code=204, summary="下架内容（保留全部版本和审核记录）")
def retire_item(item_id: str, session: SessionDep, user: Publisher, ctx: CtxDep) -> None:
    item = _get(session, item_id)
    crud.retire(session, item=item, user=user)
    session.flush()
    publish_all(ctx, session, user=user)
    session.commit()
