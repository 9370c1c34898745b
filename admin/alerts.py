"""Emergency alerts (紧急通知): always two-level review, then sent retained to
the chosen groups (or all); cancel replaces the retained message with a
cancelled one so every endpoint clears it, including those offline now."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import review
from admin.crud import audit
from admin.models import Alert, AlertApproval, User, utcnow
from broker import messages as m


def _epoch(value: dt.datetime | None) -> float | None:
    return value.replace(tzinfo=dt.timezone.utc).timestamp() if value else None


def alert_messages(alert: Alert, *, site_id: str, cancelled: bool = False) -> list[m.EmergencyAlert]:
    return [m.EmergencyAlert(site_id=site_id, group=group, alert_id=alert.id, title=alert.title, body=alert.body,
                             level=alert.level, expires_at=_epoch(alert.expires_at),
                             cancelled=cancelled or alert.status == "cancelled")
            for group in alert.groups]


def create(session: Session, *, user: User, title: str, body: str, level: str, groups: list[str],
           expires_at: dt.datetime | None) -> Alert:
    if user.role not in review.EDIT_ROLES | review.PUBLISH_ROLES:
        raise review.ReviewError("没有发起紧急通知的权限", status_code=403)
    alert = Alert(id=uuid.uuid4().hex, title=title, body=body, level=level, groups=groups or [m.ALL_GROUPS],
                  expires_at=expires_at, status=review.SUBMITTED, created_by=user.id)
    session.add(alert)
    audit.record(session, user=user, action="alert_create", target=alert.id,
                 detail=f"{title} → {', '.join(alert.groups)}")
    return alert


def approvals(session: Session, *, alert_id: str) -> list[AlertApproval]:
    return list(session.scalars(select(AlertApproval).where(AlertApproval.alert_id == alert_id)
                                .order_by(AlertApproval.id)))


def approve(session: Session, *, alert: Alert, user: User, comment: str = "") -> Alert:
    past = [review.PastApproval(level=a.level, user_id=a.user_id)
            for a in approvals(session, alert_id=alert.id) if a.decision == "approve"]
    status, level = review.approve(alert.status, review.Actor(user.id, user.role), author_id=alert.created_by,
                                   needs_level2=True, approvals=past)
    session.add(AlertApproval(alert_id=alert.id, level=level, user_id=user.id, decision="approve", comment=comment))
    alert.status = status
    audit.record(session, user=user, action=f"alert_approve_l{level}", target=alert.id, detail=comment)
    return alert


def reject(session: Session, *, alert: Alert, user: User, comment: str) -> Alert:
    level = 1 if alert.status == review.SUBMITTED else 2
    review.reject(alert.status, review.Actor(user.id, user.role), author_id=alert.created_by, comment=comment)
    session.add(AlertApproval(alert_id=alert.id, level=level, user_id=user.id, decision="reject", comment=comment))
    alert.status = "rejected"
    audit.record(session, user=user, action="alert_reject", target=alert.id, detail=comment)
    return alert


def mark_sent(session: Session, *, alert: Alert, user: User) -> Alert:
    if alert.status != review.APPROVED:
        raise review.ReviewError("紧急通知须经一级和二级审核后才能发送")
    review.publish(alert.status, review.Actor(user.id, user.role))
    alert.status, alert.sent_at = "sent", utcnow()
    audit.record(session, user=user, action="alert_send", target=alert.id, detail=", ".join(alert.groups))
    return alert


def cancel(session: Session, *, alert: Alert, user: User) -> Alert:
    if user.role not in review.PUBLISH_ROLES:
        raise review.ReviewError("只有发布员或管理员可以撤销紧急通知", status_code=403)
    if alert.status == "cancelled":
        return alert
    alert.status, alert.cancelled_at = "cancelled", utcnow()
    audit.record(session, user=user, action="alert_cancel", target=alert.id)
    return alert
