"""The pages behind the login: thin views over the same crud functions the API uses."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter
from sqlalchemy import func, select

from admin.crud import items as crud_items
from admin.crud import users as crud_users
from admin.deps import CtxDep, OptionalUser, SessionDep
from admin.models import (
    Alert,
    AuditEntry,
    Device,
    DeviceGroup,
    Item,
    ItemVersion,
    Member,
    Playlist,
    ScheduleRule,
    User,
)
from admin.review import STATUS_LABELS
from admin.web.pages import _login_redirect, render, router
from content import model as cm

KIND_LABELS = {"news": "党情速递", "notice": "通知公告", "lesson": "党课学习", "quiz": "知识测验", "service": "服务指南",
               "honour": "荣誉库", "archive": "史料库", "exhibit": "展品", "faq": "常见问答", "meeting": "三会一课",
               "organisation": "党组织"}
ROLE_LABELS = {"editor": "编辑", "reviewer": "一级审核（支部）", "publisher": "二级审核/发布（党委）", "admin": "管理员",
               "auditor": "审计"}
KIND_MODELS = {"news": cm.News, "notice": cm.Notice, "lesson": cm.Lesson, "quiz": cm.Quiz, "service": cm.ServicePage,
               "honour": cm.Honour, "archive": cm.ArchiveDoc, "exhibit": cm.Exhibit, "faq": cm.FaqEntry,
               "meeting": cm.Meeting, "organisation": cm.Organisation}


def page(request: Request, name: str, user: User, **context: Any) -> HTMLResponse:
    return render(request, name, user, kinds=KIND_LABELS, roles=ROLE_LABELS, status_labels=STATUS_LABELS,
                  path=request.url.path, **context)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    counts = dict(session.execute(select(Item.status, func.count()).where(Item.retired.is_(False))
                                  .group_by(Item.status)).all())
    devices = list(session.scalars(select(Device)))
    alerts = list(session.scalars(select(Alert).where(Alert.status == "sent")))
    groups = list(session.scalars(select(DeviceGroup).order_by(DeviceGroup.name)))
    return page(request, "dashboard.html", user, counts=counts, devices=devices, alerts=alerts, groups=groups,
                online=sum(1 for d in devices if d.online))


@router.get("/items", response_class=HTMLResponse)
def items_page(request: Request, session: SessionDep, user: OptionalUser, kind: str | None = None,
               status: str | None = None, q: str | None = None, offset: int = 0) -> Response:
    if user is None:
        return _login_redirect(request)
    rows, total = crud_items.list_items(session, kind=kind or None, status=status or None, q=q or None, limit=50,
                                        offset=min(max(0, offset), 10**6))
    numbers = crud_items.version_numbers(session, version_ids=[v for r in rows
                                                               for v in (r.head_version_id, r.live_version_id) if v])
    return page(request, "items.html", user, rows=rows, total=total, numbers=numbers, kind=kind or "", status=status or "",
                q=q or "", offset=min(max(0, offset), 10**6))


def _schema(kind: str) -> dict[str, Any]:
    return TypeAdapter(KIND_MODELS[kind]).json_schema()


@router.get("/items/new", response_class=HTMLResponse)
def new_item(request: Request, user: OptionalUser, kind: str = "news") -> Response:
    if user is None:
        return _login_redirect(request)
    kind = kind if kind in KIND_MODELS else "news"
    return page(request, "editor.html", user, kind=kind, schema=_schema(kind), data={}, item=None,
                base_version="null")


@router.get("/items/{item_id}/edit", response_class=HTMLResponse)
def edit_item(item_id: str, request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    item = crud_items.get(session, item_id=item_id)
    if item is None:
        return page(request, "notfound.html", user)
    head = crud_items.version(session, version_id=item.head_version_id)
    return page(request, "editor.html", user, kind=item.kind, schema=_schema(item.kind),
                data=head.data, item=item, base_version=head.number)


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(item_id: str, request: Request, session: SessionDep, user: OptionalUser,
              version: int | None = None) -> Response:
    if user is None:
        return _login_redirect(request)
    item = crud_items.get(session, item_id=item_id)
    if item is None:
        return page(request, "notfound.html", user)
    head = crud_items.version(session, version_id=item.head_version_id)
    live = crud_items.version(session, version_id=item.live_version_id)
    valid = version is not None and 0 < version < 1_000_000
    shown = crud_items.version_by_number(session, item_id=item_id, number=version) if valid else head
    shown = shown or head
    names = {u.id: u.display_name or u.name for u in crud_users.list_all(session)}
    history = [(v, crud_items.approvals(session, version_id=v.id))
               for v in crud_items.versions(session, item_id=item_id)]
    return page(request, "item.html", user, item=item, head=head, live=live, shown=shown, history=history,
                names=names, data_json=json.dumps(shown.data, ensure_ascii=False, indent=2))


@router.get("/items/{item_id}/preview", response_class=HTMLResponse)
def preview(item_id: str, request: Request, session: SessionDep, user: OptionalUser,
            version: int | None = None) -> Response:
    if user is None:
        return _login_redirect(request)
    item = crud_items.get(session, item_id=item_id)
    if item is None:
        return page(request, "notfound.html", user)
    valid = version is not None and 0 < version < 1_000_000
    ver = (crud_items.version_by_number(session, item_id=item_id, number=version) if valid else None) or \
        crud_items.version(session, version_id=item.head_version_id)
    return page(request, "preview.html", user, item=item, ver=ver, d=ver.data)


@router.get("/items/{item_id}/preview.png")
def preview_png(item_id: str, request: Request, session: SessionDep, user: OptionalUser, ctx: CtxDep,
                version: int | None = None) -> Response:
    """The kiosk's own rendering of this version (see admin.kiosk_preview)."""
    from fastapi.responses import FileResponse, PlainTextResponse

    from admin.kiosk_preview import PreviewUnavailable
    from admin.kiosk_preview import preview_png as render_png

    if user is None:
        return PlainTextResponse("请先登录", status_code=401)
    item = crud_items.get(session, item_id=item_id)
    if item is None:
        return PlainTextResponse("内容不存在", status_code=404)
    valid = version is not None and 0 < version < 1_000_000
    ver = (crud_items.version_by_number(session, item_id=item_id, number=version) if valid else None) or \
        crud_items.version(session, version_id=item.head_version_id)
    try:
        path = render_png(store=ctx.store, cache_dir=ctx.settings.data_dir / "admin" / "previews", data=ver.data,
                          version_sha256=ver.sha256)
    except PreviewUnavailable as exc:
        return PlainTextResponse(str(exc), status_code=503)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/review", response_class=HTMLResponse)
def review_queue(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    waiting = list(session.scalars(select(Item).where(Item.status.in_(("submitted", "approved_l1", "approved")),
                                                      Item.retired.is_(False)).order_by(Item.updated_at)))
    alerts = list(session.scalars(select(Alert).where(Alert.status.in_(("submitted", "approved_l1")))))
    return page(request, "review.html", user, waiting=waiting, alerts=alerts)


@router.get("/schedule", response_class=HTMLResponse)
def schedule_page(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    groups = list(session.scalars(select(DeviceGroup).order_by(DeviceGroup.name)))
    playlists = list(session.scalars(select(Playlist).order_by(Playlist.id)))
    rules = list(session.scalars(select(ScheduleRule).order_by(ScheduleRule.group, ScheduleRule.priority.desc())))
    live = [(i, v) for i, v in crud_items.live_items(session)]
    return page(request, "schedule.html", user, groups=groups, playlists=playlists, rules=rules, live=live)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    groups = list(session.scalars(select(DeviceGroup.name).order_by(DeviceGroup.name)))
    return page(request, "alerts.html", user, groups=groups)


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    groups = list(session.scalars(select(DeviceGroup.name).order_by(DeviceGroup.name)))
    return page(request, "devices.html", user, groups=groups)


@router.get("/devices/{device_id}", response_class=HTMLResponse)
def device_page(device_id: str, request: Request, session: SessionDep, user: OptionalUser, ctx: CtxDep) -> Response:
    """What is on this screen now: the applied manifest's items, each linked to
    the exact approved version and its approvals."""
    if user is None:
        return _login_redirect(request)
    device = session.get(Device, device_id)
    if device is None:
        return page(request, "notfound.html", user)
    on_screen: list[tuple[Any, ItemVersion | None]] = []
    manifest_error = None
    if device.applied_sha256:
        from content.errors import ContentError
        from content.signing import decode_manifest

        try:
            manifest = decode_manifest(ctx.store.read(device.applied_sha256))
            for entry in manifest.items:
                ver = session.scalar(select(ItemVersion).where(ItemVersion.sha256 == entry.version_sha256,
                                                               ItemVersion.item_id == entry.id))
                on_screen.append((entry, ver))
        except ContentError as exc:
            manifest_error = str(exc)
    return page(request, "device.html", user, device=device, on_screen=on_screen, manifest_error=manifest_error)


@router.get("/meetings", response_class=HTMLResponse)
def meetings_page(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    return page(request, "meetings.html", user)


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
def meeting_page(meeting_id: str, request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    item = session.get(Item, meeting_id)
    if item is None or item.kind != "meeting":
        return page(request, "notfound.html", user)
    return page(request, "meeting.html", user, item=item)


ROSTER_ROLES = ("editor", "auditor", "admin")


@router.get("/members", response_class=HTMLResponse)
def members_page(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    # The roster is personal data: the same roles as GET /api/members (docs/security.md, S11);
    # everyone else still sees the organisation tree.
    can_roster = user.role in ROSTER_ROLES
    members = list(session.scalars(select(Member).order_by(Member.member_no).limit(500))) if can_roster else []
    branches = list(session.scalars(select(Item).where(Item.kind == "organisation", Item.retired.is_(False))
                                    .order_by(Item.id)))
    from admin.web.face_pages import FACE_ROLES, face_state

    can_face = user.role in FACE_ROLES
    return page(request, "members.html", user, members=members, branches=branches, can_roster=can_roster,
                tree=branch_tree(session, branches), can_face=can_face,
                faces=face_state(request.app.state.ctx) if can_face else None)


def branch_tree(session, branches: list[Item]) -> list[tuple[int, dict[str, Any]]]:  # noqa: ANN001
    """(depth, data) in tree order: committees first, their branches under them."""
    data = {}
    for b in branches:
        ver = crud_items.version(session, version_id=b.live_version_id or b.head_version_id)
        if ver is not None:
            data[b.id] = ver.data
    children: dict[str | None, list[str]] = {}
    for bid, d in data.items():
        parent = d.get("parent_id") if d.get("parent_id") in data else None
        children.setdefault(parent, []).append(bid)
    out: list[tuple[int, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for bid in sorted(children.get(parent, [])):
            if depth < 10:  # a cycle in parent ids must not loop forever
                out.append((depth, data[bid]))
                walk(bid, depth + 1)

    walk(None, 0)
    return out


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    return page(request, "reports.html", user)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, user: OptionalUser, user_name: str = "", action: str = "",
               target: str = "") -> Response:
    if user is None:
        return _login_redirect(request)
    if user.role not in ("auditor", "admin"):
        return page(request, "forbidden.html", user)
    from admin.crud import audit as crud_audit

    rows = crud_audit.search(session, user_name=user_name or None, action=action or None, target=target or None,
                             limit=300)
    actions = list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
    return page(request, "audit.html", user, rows=rows, actions=actions, f_user=user_name, f_action=action,
                f_target=target)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _login_redirect(request)
    if user.role != "admin":
        return page(request, "forbidden.html", user)
    return page(request, "users.html", user, users=crud_users.list_all(session))


