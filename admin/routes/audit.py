"""The audit log, for auditors and admins: filter and CSV export."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from admin.crud import audit as crud
from admin.deps import Auditor, SessionDep

from admin.routes.limits import MAX_OFFSET

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    user_name: str
    action: str
    target: str
    version_sha256: str | None
    detail: str


@router.get("", response_model=list[AuditOut], summary="审计日志（可筛选）")
def list_audit(session: SessionDep, _: Auditor, user: str | None = Query(None, max_length=64),
               action: str | None = Query(None, max_length=32), target: str | None = Query(None, max_length=100),
               since: dt.datetime | None = None, until: dt.datetime | None = None,
               limit: int = Query(200, ge=1, le=2000),
               offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> list[AuditOut]:
    rows = crud.search(session, user_name=user, action=action, target=target, since=_naive(since),
                       until=_naive(until), limit=limit, offset=offset)
    return [AuditOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/export.csv", summary="导出审计日志 CSV", response_class=Response)
def export_audit(session: SessionDep, _: Auditor, user: str | None = Query(None, max_length=64),
                 action: str | None = Query(None, max_length=32), target: str | None = Query(None, max_length=100),
                 since: dt.datetime | None = None, until: dt.datetime | None = None) -> Response:
    rows = crud.iter_all(session, user_name=user, action=action, target=target, since=_naive(since),
                         until=_naive(until))
    return Response(crud.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    """The log stores naive UTC; accept any aware time from the query."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except OverflowError:
        return None
