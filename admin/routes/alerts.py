"""Emergency alerts: create, two-level approval, send, live acknowledgements, cancel."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from admin import alerts as crud
from admin import review
from admin.deps import CtxDep, CurrentUser, SessionDep
from admin.events import unacked_devices
from admin.models import Alert, AlertAckRow, DeviceGroup
from broker.messages import ALL_GROUPS

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class AlertIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=4000)
    level: Literal["info", "warning", "critical"] = "critical"
    groups: list[str] = Field(default_factory=lambda: [ALL_GROUPS], max_length=50)
    expires_in_minutes: int | None = Field(default=60, ge=1, le=60 * 24 * 30)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        return sorted(set(value)) or [ALL_GROUPS]


class Comment(BaseModel):
    comment: str = Field(default="", max_length=2000)


class AckOut(BaseModel):
    device_id: str
    state: str
    at: dt.datetime


class AlertOut(BaseModel):
    id: str
    title: str
    body: str
    level: str
    groups: list[str]
    status: str
    status_label: str
    expires_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    acks: list[AckOut] = Field(default_factory=list)
    not_acked: list[str] = Field(default_factory=list)
    delivered: bool | None = None


def alert_out(session, alert: Alert, delivered: bool | None = None) -> AlertOut:  # noqa: ANN001
    acks = [AckOut(device_id=a.device_id, state=a.state, at=a.at)
            for a in session.scalars(select(AlertAckRow).where(AlertAckRow.alert_id == alert.id)
                                     .order_by(AlertAckRow.at))]
    waiting = [d.id for d in unacked_devices(session, alert=alert)] if alert.status == "sent" else []
    return AlertOut(id=alert.id, title=alert.title, body=alert.body, level=alert.level, groups=alert.groups,
                    status=alert.status, status_label=review.STATUS_LABELS.get(alert.status, alert.status),
                    expires_at=alert.expires_at, created_at=alert.created_at, sent_at=alert.sent_at,
                    cancelled_at=alert.cancelled_at, acks=acks, not_acked=waiting, delivered=delivered)


def _get(session, alert_id: str) -> Alert:  # noqa: ANN001
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise HTTPException(404, "紧急通知不存在")
    return alert


@router.get("", response_model=list[AlertOut], summary="紧急通知列表（含未确认终端）")
def list_alerts(session: SessionDep, _: CurrentUser) -> list[AlertOut]:
    rows = session.scalars(select(Alert).order_by(Alert.created_at.desc()).limit(100))
    return [alert_out(session, a) for a in rows]


@router.post("", response_model=AlertOut, status_code=201, summary="发起紧急通知（需一级、二级审核）")
def create_alert(body: AlertIn, session: SessionDep, user: CurrentUser) -> AlertOut:
    known = set(session.scalars(select(DeviceGroup.name))) | {ALL_GROUPS}
    unknown = [g for g in body.groups if g not in known]
    if unknown:
        raise HTTPException(422, f"未知设备组：{', '.join(unknown)}")
    expires = (dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=body.expires_in_minutes)
               if body.expires_in_minutes else None)
    alert = crud.create(session, user=user, title=body.title, body=body.body, level=body.level, groups=body.groups,
                        expires_at=expires)
    session.commit()
    return alert_out(session, alert)


@router.get("/{alert_id}", response_model=AlertOut, summary="紧急通知详情")
def get_alert(alert_id: str, session: SessionDep, _: CurrentUser) -> AlertOut:
    return alert_out(session, _get(session, alert_id))


@router.post("/{alert_id}/approve", response_model=AlertOut,
             summary="审核紧急通知；二级审核通过后立即发送到各终端")
def approve_alert(alert_id: str, body: Comment, session: SessionDep, user: CurrentUser, ctx: CtxDep) -> AlertOut:
    alert = crud.approve(session, alert=_get(session, alert_id), user=user, comment=body.comment)
    delivered = None
    if alert.status == review.APPROVED:
        delivered = _send(ctx, session, alert, user)
    session.commit()
    return alert_out(session, alert, delivered)


@router.post("/{alert_id}/reject", response_model=AlertOut, summary="退回紧急通知")
def reject_alert(alert_id: str, body: Comment, session: SessionDep, user: CurrentUser) -> AlertOut:
    alert = crud.reject(session, alert=_get(session, alert_id), user=user, comment=body.comment)
    session.commit()
    return alert_out(session, alert)


@router.post("/{alert_id}/cancel", response_model=AlertOut, summary="撤销紧急通知（所有终端清除）")
def cancel_alert(alert_id: str, session: SessionDep, user: CurrentUser, ctx: CtxDep) -> AlertOut:
    alert = _get(session, alert_id)
    was_sent = alert.status == "sent"
    crud.cancel(session, alert=alert, user=user)
    delivered = None
    if was_sent:
        messages = crud.alert_messages(alert, site_id=ctx.settings.site_id, cancelled=True)
        delivered = all([ctx.publish_message(msg) for msg in messages])
    session.commit()
    return alert_out(session, alert, delivered)


def _send(ctx, session, alert: Alert, user) -> bool:  # noqa: ANN001
    crud.mark_sent(session, alert=alert, user=user)
    # Even when this fails (broker away) the alert is stored as sent and the bus
    # re-sends every active alert when the connection returns.
    return all([ctx.publish_message(msg) for msg in crud.alert_messages(alert, site_id=ctx.settings.site_id)])
