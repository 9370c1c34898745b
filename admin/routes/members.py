"""Members (with consent flags), live check-ins and attendance reports.

Branches and meetings are content items (kinds ``organisation`` and
``meeting``) so they are reviewed and published like everything else; this
router adds the people and the attendance around them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from admin import security
from admin.crud import audit
from admin.deps import Admin, CtxDep, CurrentUser, Editor, SessionDep, require_roles
from admin.events import attendance_boards, meeting_data
from admin.export import table_response
from admin.models import CheckInRow, Item, Member, PointsEvent

from admin.routes.faces import on_consent_withdrawn, on_member_deleted
from admin.routes.limits import MAX_OFFSET

router = APIRouter(prefix="/api", tags=["members"])
# The roster holds personal data (phone, consent to face check-in): only the
# people who keep it (editors), audit it (auditors) and admins read it.
# Reviewers and publishers review content and see attendance, not the roster.
RosterReader = Annotated[Any, Depends(require_roles("editor", "auditor"))]


class MemberIn(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=64)
    member_no: str = Field(min_length=1, max_length=32)
    branch_id: str | None = Field(default=None, max_length=64)
    phone: str = Field(default="", max_length=32)
    consent_face: bool = False
    consent_display_name: bool = True


class MemberOut(MemberIn):
    points_total: int


class CheckInOut(BaseModel):
    checkin_id: str
    member_id: str
    member_name: str
    device_id: str
    method: str
    late: bool
    at: dt.datetime


def _member_out(m: Member) -> MemberOut:
    return MemberOut.model_validate(m, from_attributes=True)


@router.get("/members", response_model=list[MemberOut], summary="党员名册（含电话与同意记录；编辑、审计员、管理员可读）")
def list_members(session: SessionDep, _: RosterReader, branch_id: str | None = Query(None, max_length=64),
                 limit: int = Query(200, ge=1, le=5000),
                 offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> list[MemberOut]:
    query = select(Member).order_by(Member.member_no)
    if branch_id:
        query = query.where(Member.branch_id == branch_id)
    return [_member_out(m) for m in session.scalars(query.limit(limit).offset(offset))]


@router.post("/members", response_model=MemberOut, status_code=201, summary="新建或修改党员")
def put_member(body: MemberIn, session: SessionDep, user: Editor, ctx: CtxDep) -> MemberOut:
    clash = session.scalar(select(Member).where(Member.member_no == body.member_no, Member.id != body.id))
    if clash is not None:
        raise HTTPException(409, "党员编号已被使用")
    member = session.get(Member, body.id) or Member(id=body.id)
    withdrawn = bool(member.consent_face) and not body.consent_face
    for key, value in body.model_dump().items():
        setattr(member, key, value)
    session.add(member)
    audit.record(session, user=user, action="member_save", target=body.id,
                 detail=f"人脸同意={body.consent_face} 显示姓名={body.consent_display_name}")
    if withdrawn:  # withdrawing consent deletes every embedding and photo, before we commit
        on_consent_withdrawn(ctx, body.id)
    session.commit()
    return _member_out(member)


class PinIn(BaseModel):
    pin: str = Field(min_length=4, max_length=12, pattern=r"^[0-9]+$")


def weak_pin(pin: str, member_no: str) -> bool:
    """PINs a guesser tries first: one digit repeated, a run up or down
    (1234, 9876, 0123), or the member's own number. The guess limits slow a
    guesser down; they cannot save a PIN that is guessed in the first tries."""
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    return len(set(pin)) == 1 or steps in ({1}, {-1}) or pin in member_no


@router.put("/members/{member_id}/pin", status_code=204, summary="设置党员学习积分密码（只存哈希）",
            responses={422: {"description": "密码过于简单"}})
def set_member_pin(member_id: str, body: PinIn, session: SessionDep, user: Editor) -> None:
    member = session.get(Member, member_id)
    if member is None:
        raise HTTPException(404, "党员不存在")
    if weak_pin(body.pin, member.member_no):
        raise HTTPException(422, "积分密码过于简单（重复数字、连续数字或党员编号），请另设")
    member.pin_hash = security.hash_password(body.pin)
    audit.record(session, user=user, action="member_pin_set", target=member_id, detail="已设置积分密码")
    session.commit()


@router.delete("/members/{member_id}", status_code=204, summary="删除党员及其全部签到与积分记录")
def delete_member(member_id: str, session: SessionDep, user: Admin, ctx: CtxDep) -> None:
    member = session.get(Member, member_id)
    if member is None:
        raise HTTPException(404, "党员不存在")
    on_member_deleted(ctx, member_id)  # raises (and nothing is committed) if the vault can't be opened
    session.execute(delete(CheckInRow).where(CheckInRow.member_id == member_id))
    session.execute(delete(PointsEvent).where(PointsEvent.member_no == member.member_no))
    session.delete(member)
    audit.record(session, user=user, action="member_delete", target=member_id)
    session.commit()


def _meeting(session, meeting_id: str) -> dict[str, Any]:  # noqa: ANN001
    data = meeting_data(session, meeting_id)
    if data is None:
        raise HTTPException(404, "会议不存在")
    return data


@router.get("/meetings/{meeting_id}/checkins", response_model=list[CheckInOut], summary="会议实时签到")
def meeting_checkins(meeting_id: str, session: SessionDep, _: CurrentUser) -> list[CheckInOut]:
    _meeting(session, meeting_id)
    rows = session.scalars(select(CheckInRow).where(CheckInRow.meeting_id == meeting_id).order_by(CheckInRow.at))
    return [CheckInOut.model_validate(r, from_attributes=True) for r in rows]


ATTENDANCE_HEADERS = ["党员编号", "姓名", "支部", "应到", "签到", "签到时间(UTC)", "方式", "迟到", "设备"]


def attendance_rows(session, meeting_id: str) -> list[list[Any]]:  # noqa: ANN001
    data = _meeting(session, meeting_id)
    checkins = {r.member_id: r for r in session.scalars(select(CheckInRow).where(CheckInRow.meeting_id == meeting_id))}
    expected = list(data.get("expected_members") or [])
    rows = []
    for member_id in expected + [m for m in checkins if m not in expected]:
        member = session.get(Member, member_id)
        row = checkins.get(member_id)
        rows.append([member.member_no if member else member_id, member.name if member else (row.member_name if row
                     else member_id), member.branch_id if member else "", "是" if member_id in expected else "否",
                     "是" if row else "否", row.at.isoformat(timespec="seconds") if row else "",
                     row.method if row else "", ("是" if row.late else "否") if row else "",
                     row.device_id if row else ""])
    return rows


@router.get("/meetings/{meeting_id}/attendance", summary="会议出勤报表")
def attendance(meeting_id: str, session: SessionDep, _: CurrentUser) -> dict[str, Any]:
    data = _meeting(session, meeting_id)
    rows = attendance_rows(session, meeting_id)
    present = sum(1 for r in rows if r[4] == "是")
    expected = len(data.get("expected_members") or [])
    return {"meeting_id": meeting_id, "title": data.get("title"), "meeting_type": data.get("meeting_type"),
            "expected": expected, "present": present,
            "rate": round(present / expected, 3) if expected else None, "headers": ATTENDANCE_HEADERS, "rows": rows}


@router.get("/meetings/{meeting_id}/attendance/export", summary="导出出勤报表", response_class=Response)
def export_attendance(meeting_id: str, session: SessionDep, _: CurrentUser,
                      fmt: Literal["csv", "xlsx"] = "csv") -> Response:
    return table_response(fmt, ATTENDANCE_HEADERS, attendance_rows(session, meeting_id),
                          name=f"attendance-{meeting_id}", title="出勤")


@router.post("/meetings/{meeting_id}/board", summary="向终端推送签到看板")
def push_board(meeting_id: str, session: SessionDep, user: Editor, ctx: CtxDep) -> dict[str, Any]:
    _meeting(session, meeting_id)
    boards = attendance_boards(session, meeting_id=meeting_id, site_id=ctx.settings.site_id)
    sent = [ctx.publish_message(b) for b in boards]
    return {"groups": [b.group for b in boards], "delivered": all(sent) if sent else False}


@router.get("/meetings", summary="三会一课会议列表")
def list_meetings(session: SessionDep, _: CurrentUser) -> list[dict[str, Any]]:
    out = []
    for item in session.scalars(select(Item).where(Item.kind == "meeting", Item.retired.is_(False))):
        data = meeting_data(session, item.id) or {}
        count = len(list(session.scalars(select(CheckInRow.checkin_id).where(CheckInRow.meeting_id == item.id))))
        out.append({"id": item.id, "title": item.title, "meeting_type": data.get("meeting_type"),
                    "starts_at": data.get("starts_at"), "place": data.get("place"), "status": item.status,
                    "expected": len(data.get("expected_members") or []), "present": count})
    out.sort(key=lambda m: m.get("starts_at") or "")
    return out
