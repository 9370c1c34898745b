"""The append-only audit log: every transition and every write lands here."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from admin.models import AuditEntry, User


def record(session: Session, *, user: User | str | None, action: str, target: str = "",
           version_sha256: str | None = None, detail: str = "") -> AuditEntry:
    name = user.name if isinstance(user, User) else (user or "system")
    entry = AuditEntry(user_name=name, action=action, target=target, version_sha256=version_sha256,
                       detail=detail[:2000])
    session.add(entry)
    return entry


def _filtered(*, user_name: str | None, action: str | None, target: str | None,
              since: dt.datetime | None, until: dt.datetime | None) -> Select[tuple[AuditEntry]]:
    query = select(AuditEntry)
    if user_name:
        query = query.where(AuditEntry.user_name == user_name)
    if action:
        query = query.where(AuditEntry.action == action)
    if target:
        query = query.where(AuditEntry.target.contains(target))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    return query


def search(session: Session, *, user_name: str | None = None, action: str | None = None,
           target: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
           limit: int = 200, offset: int = 0) -> list[AuditEntry]:
    query = _filtered(user_name=user_name, action=action, target=target, since=since, until=until)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)))


def iter_all(session: Session, **filters: object) -> Iterable[AuditEntry]:
    query = _filtered(**filters)  # type: ignore[arg-type]
    return session.scalars(query.order_by(AuditEntry.id).execution_options(yield_per=500))


def to_csv(entries: Iterable[AuditEntry]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
    writer = csv.writer(out)
    writer.writerow(["序号", "时间(UTC)", "用户", "操作", "对象", "版本哈希", "说明"])
    for e in entries:
        writer.writerow([e.id, e.at.isoformat(timespec="seconds"), e.user_name, e.action, e.target,
                         e.version_sha256 or "", _csv_safe(e.detail)])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheet programs (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
