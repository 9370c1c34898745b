"""Attendance corrections and reports (三会一课出勤).

Face check-ins arrive over MQTT (``admin.events.on_checkin``). Here a person
checks a member in by hand or removes a wrong check-in, always with a reason
that goes into the audit log; and attendance is summed per branch and quarter.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from admin.crud import audit
from admin.deps import CtxDep, CurrentUser, Editor, SessionDep
from admin.events import attendance_boards, meeting_data
from admin.export import table_response
from admin.models import CheckInRow, Item, Member

router = APIRouter(prefix="/api", tags=["attendance"])

QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


class ManualCheckIn(BaseModel):
    member_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=2, max_length=200, description="为什么手工签到，例如：人脸识别失败")
    late: bool = False


def _meeting_or_404(session, meeting_id: str) -> dict[str, Any]:  # noqa: ANN001
    data = meeting_data(session, meeting_id)
    if data is None:
        raise HTTPException(404, "会议不存在")
    return data


def _push_boards(session, ctx, meeting_id: str) -> None:  # noqa: ANN001
    for board in attendance_boards(session, meeting_id=meeting_id, site_id=ctx.settings.site_id):
        ctx.publish_message(board)


@router.post("/meetings/{meeting_id}/checkins", status_code=201, summary="手工签到（须填写原因，记入审计日志）")
def manual_checkin(meeting_id: str, body: ManualCheckIn, session: SessionDep, user: Editor,
                   ctx: CtxDep) -> dict[str, Any]:
    _meeting_or_404(session, meeting_id)
    member = session.get(Member, body.member_id)
    if member is None:
        raise HTTPException(404, "党员不存在")
    existing = session.scalar(select(CheckInRow).where(CheckInRow.meeting_id == meeting_id,
                                                       CheckInRow.member_id == body.member_id))
    if existing is not None:
        raise HTTPException(409, f"{member.name} 已签到（{existing.method}）")
    row = CheckInRow(checkin_id=f"manual-{uuid.uuid4().hex}", meeting_id=meeting_id, member_id=member.id,
                     member_name=member.name, device_id=f"admin:{user.name}", method="manual", late=body.late)
    session.add(row)
    audit.record(session, user=user, action="checkin_manual", target=f"{meeting_id}/{member.id}",
                 detail=body.reason)
    session.commit()
    _push_boards(session, ctx, meeting_id)
    return {"checkin_id": row.checkin_id, "member_id": member.id, "method": "manual"}


@router.delete("/meetings/{meeting_id}/checkins/{member_id}", status_code=204,
               summary="撤销一条签到（更正，须填写原因，记入审计日志）")
def remove_checkin(meeting_id: str, member_id: str, session: SessionDep, user: Editor, ctx: CtxDep,
                   reason: str = Query(..., min_length=2, max_length=200)) -> None:
    _meeting_or_404(session, meeting_id)
    row = session.scalar(select(CheckInRow).where(CheckInRow.meeting_id == meeting_id,
                                                  CheckInRow.member_id == member_id))
    if row is None:
        raise HTTPException(404, "没有这条签到")
    session.delete(row)
    audit.record(session, user=user, action="checkin_correct", target=f"{meeting_id}/{member_id}",
                 detail=f"撤销 {row.method} 签到：{reason}")
    session.commit()
    _push_boards(session, ctx, meeting_id)


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """'2026Q4' → (2026-10-01, 2027-01-01), end exclusive."""
    match = QUARTER_RE.match(quarter)
    if match is None:
        raise HTTPException(422, "季度格式为 2026Q4")
    year, q = int(match[1]), int(match[2])
    start = dt.date(year, 3 * (q - 1) + 1, 1)
    end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return start, end


REPORT_HEADERS = ["会议", "类型", "支部", "日期", "应到", "实到", "出勤率", "迟到", "手工签到"]


def attendance_report_rows(session, *, quarter: str, branch_id: str | None) -> list[list[Any]]:  # noqa: ANN001
    start, end = quarter_bounds(quarter)
    rows = []
    for item in session.scalars(select(Item).where(Item.kind == "meeting", Item.retired.is_(False))):
        data = meeting_data(session, item.id) or {}
        try:
            day = dt.datetime.fromisoformat(str(data.get("starts_at"))).date()
        except ValueError:
            continue
        if not start <= day < end or (branch_id and data.get("branch_id") != branch_id):
            continue
        checkins = list(session.scalars(select(CheckInRow).where(CheckInRow.meeting_id == item.id)))
        expected = len(data.get("expected_members") or [])
        rows.append([item.title, data.get("meeting_type", ""), data.get("branch_id", ""), day.isoformat(), expected,
                     len(checkins), round(len(checkins) / expected, 3) if expected else None,
                     sum(1 for c in checkins if c.late), sum(1 for c in checkins if c.method == "manual")])
    rows.sort(key=lambda r: (r[3], r[0]))
    return rows


@router.get("/reports/attendance", summary="出勤统计：按支部和季度")
def attendance_report(session: SessionDep, _: CurrentUser, quarter: str = Query(..., max_length=6),
                      branch_id: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    rows = attendance_report_rows(session, quarter=quarter, branch_id=branch_id)
    expected, present = sum(r[4] for r in rows), sum(r[5] for r in rows)
    return {"quarter": quarter, "branch_id": branch_id, "meetings": len(rows), "expected": expected,
            "present": present, "rate": round(present / expected, 3) if expected else None,
            "headers": REPORT_HEADERS, "rows": rows}


@router.get("/reports/attendance/export", summary="导出出勤统计", response_class=Response)
def export_attendance_report(session: SessionDep, _: CurrentUser, quarter: str = Query(..., max_length=6),
                             branch_id: str | None = Query(None, max_length=64),
                             fmt: Literal["csv", "xlsx"] = "csv") -> Response:
    rows = attendance_report_rows(session, quarter=quarter, branch_id=branch_id)
    return table_response(fmt, REPORT_HEADERS, rows, name=f"attendance-{quarter}", title="出勤统计")
