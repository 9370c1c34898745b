"""Reports: proof of play, exhibit views, learning points."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.deps import CurrentUser, SessionDep
from admin.export import table_response
from admin.models import ExhibitViewRow, Item, Member, PlayRecordRow

router = APIRouter(prefix="/api/reports", tags=["reports"])
PLAY_HEADERS = ["日期", "设备组", "内容编号", "标题", "播放次数", "播放时长(秒)"]


def play_rows(session: Session, since: dt.date | None, until: dt.date | None,
              group: str | None) -> list[list[Any]]:
    query = (select(PlayRecordRow.day, PlayRecordRow.group, PlayRecordRow.item_id, func.count(),
                    func.sum(PlayRecordRow.duration_s))
             .group_by(PlayRecordRow.day, PlayRecordRow.group, PlayRecordRow.item_id)
             .order_by(PlayRecordRow.day.desc(), PlayRecordRow.group, PlayRecordRow.item_id))
    if since:
        query = query.where(PlayRecordRow.day >= since)
    if until:
        query = query.where(PlayRecordRow.day <= until)
    if group:
        query = query.where(PlayRecordRow.group == group)
    titles = dict(session.execute(select(Item.id, Item.title)).all())
    return [[day.isoformat(), grp or "", item_id, titles.get(item_id, ""), count, round(total or 0, 1)]
            for day, grp, item_id, count, total in session.execute(query)]


@router.get("/play", summary="播放证明：按内容、设备组、日期汇总")
def proof_of_play(session: SessionDep, _: CurrentUser, since: dt.date | None = None, until: dt.date | None = None,
                  group: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    rows = play_rows(session, since, until, group)
    return {"headers": PLAY_HEADERS, "rows": rows}


@router.get("/play/export", summary="导出播放证明（csv 或 xlsx）", response_class=Response)
def export_play(session: SessionDep, _: CurrentUser, fmt: Literal["csv", "xlsx"] = "csv",
                since: dt.date | None = None, until: dt.date | None = None,
                group: str | None = Query(None, max_length=64)) -> Response:
    return table_response(fmt, PLAY_HEADERS, play_rows(session, since, until, group), name="proof-of-play",
                          title="播放证明")


@router.get("/exhibits", summary="展品热度：停留次数与时长")
def exhibit_views(session: SessionDep, _: CurrentUser, limit: int = Query(20, ge=1, le=200)) -> dict[str, Any]:
    query = (select(ExhibitViewRow.exhibit_id, func.count(), func.sum(ExhibitViewRow.dwell_s))
             .where(ExhibitViewRow.event == "dwell", ExhibitViewRow.exhibit_id.is_not(None))
             .group_by(ExhibitViewRow.exhibit_id).order_by(func.count().desc()).limit(limit))
    titles = dict(session.execute(select(Item.id, Item.title).where(Item.kind == "exhibit")).all())
    tours = dict(session.execute(select(ExhibitViewRow.event, func.count())
                                 .where(ExhibitViewRow.event != "dwell").group_by(ExhibitViewRow.event)).all())
    return {"exhibits": [{"exhibit_id": eid, "title": titles.get(eid, eid), "views": n, "dwell_s": round(s or 0, 1)}
                         for eid, n, s in session.execute(query)],
            "tours_completed": tours.get("tour_completed", 0), "tours_abandoned": tours.get("tour_abandoned", 0)}


@router.get("/points", summary="学习积分排行")
def points(session: SessionDep, _: CurrentUser, limit: int = Query(20, ge=1, le=500)) -> dict[str, Any]:
    rows = session.scalars(select(Member).order_by(Member.points_total.desc(), Member.member_no).limit(limit))
    return {"members": [{"member_no": m.member_no, "name": m.name, "branch_id": m.branch_id,
                         "points": m.points_total} for m in rows]}
