"""Face enrolment pages: the members list's face column and one page per member.

Reading the enrolment state happens here, server-side, from the vault's member
records (counts only, never an embedding); enrolling and deleting go through
``/api/members/{id}/face`` from ``static/pages/member_face.js``, so consent,
roles, size and type checks and the audit stay in one place (admin/routes/faces.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from admin.deps import CtxDep, OptionalUser, SessionDep
from admin.faces import face_services
from admin.models import Item, Member
from admin.routes.faces import MAX_PHOTO_BYTES, MAX_PHOTOS
from admin.web.pages import _login_redirect, router

FACE_ROLES = ("editor", "admin")  # the roles admin.deps.Editor lets through
OPERATOR_HINT = ("请运维人员在管理后台的运行环境中设置 HALL_FACE_VAULT_KEY_FILE（指向人脸库目录之外的 32 字节密钥文件，"
                 "或直接设置 HALL_FACE_VAULT_KEY），然后重启管理后台。")


@dataclass
class FaceState:
    """What the vault says about enrolments, for display."""

    records: dict[str, Any] = field(default_factory=dict)  # member id -> robot.face.vault.MemberRecord
    problem: str | None = None  # why enrolment cannot work now (Chinese), or None

    def embeddings(self, member_id: str) -> int:
        record = self.records.get(member_id)
        return record.embeddings if record is not None else 0


def face_state(ctx: Any) -> FaceState:
    """Enrolment records and the vault's health, without creating a vault as a side effect of a page view."""
    from robot.face.errors import FaceError

    services = face_services(ctx)
    if not services.vault_exists():
        config = services.config
        configured = config.vault_key is not None or config.vault_key_file is not None
        return FaceState(problem=None if configured else "人脸库未配置密钥，暂时不能录入人脸。")
    try:
        return FaceState(records={r.member_id: r for r in services.get_vault().members()})
    except FaceError as exc:
        return FaceState(problem=f"人脸库不可用：{exc}")


def _hall_time(epoch: float) -> str:
    from content.model import DEFAULT_TZ

    return dt.datetime.fromtimestamp(epoch, ZoneInfo(DEFAULT_TZ)).strftime("%Y-%m-%d %H:%M")


@router.get("/members/{member_id}/face", response_class=HTMLResponse)
def member_face_page(member_id: str, request: Request, session: SessionDep, user: OptionalUser,
                     ctx: CtxDep) -> Response:
    from admin.web.views import page

    if user is None:
        return _login_redirect(request)
    if user.role not in FACE_ROLES:
        # The same roles as the API's status read: enrolment state is personal data too (docs/security.md §3).
        return page(request, "forbidden.html", user)
    member = session.get(Member, member_id)
    if member is None:
        return page(request, "notfound.html", user)
    branch = session.get(Item, member.branch_id) if member.branch_id else None
    state = face_state(ctx)
    record = state.records.get(member_id)
    enrolled_at = _hall_time(record.enrolled_at) if record is not None else None
    return page(request, "member_face.html", user, member=member, branch=branch, record=record,
                enrolled_at=enrolled_at,
                problem=state.problem, operator_hint=OPERATOR_HINT,
                max_photos=MAX_PHOTOS, max_mb=MAX_PHOTO_BYTES // (1024 * 1024),
                page_data={"memberId": member.id, "memberName": member.name, "maxPhotos": MAX_PHOTOS,
                           "maxBytes": MAX_PHOTO_BYTES, "consent": member.consent_face,
                           "operatorHint": OPERATOR_HINT})
