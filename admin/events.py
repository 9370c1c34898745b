"""What the admin does with each message from the fleet: store it, and return
the replies to send (acks, attendance boards). Plain functions over a database
session, so they are tested without a broker; ``admin.bus`` wires them to MQTT.

Check-ins, learning points and proof-of-play are deduplicated by their ids:
a device re-sends until acked, the admin stores each exactly once and acks
every copy.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin.models import (
    Alert,
    AlertAckRow,
    CheckInRow,
    CommandLog,
    Device,
    ExhibitViewRow,
    Item,
    ItemVersion,
    Member,
    PlayBatch,
    PlayRecordRow,
    PointsEvent,
    utcnow,
)
from admin import security
from broker import messages as m
from content.model import DEFAULT_TZ

log = logging.getLogger(__name__)


def _device(session: Session, device_id: str, kind: str | None = None) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        # A device provisioned outside the admin (hall up's fleet.yaml) shows up by itself.
        device = Device(id=device_id, kind=kind or "kiosk", groups=[])
        session.add(device)
    return device


def on_availability(session: Session, msg: m.Availability) -> list[m.Message]:
    if msg.kind in ("admin", "bench", "broker"):
        return []
    device = _device(session, msg.device_id, msg.kind)
    device.online = msg.state == "online"
    device.last_seen = utcnow()
    if msg.groups and not device.groups:
        device.groups = list(msg.groups)
    return []


def on_reported(session: Session, msg: m.ReportedState) -> list[m.Message]:
    device = _device(session, msg.device_id, msg.kind)
    device.applied_version = msg.applied_version
    device.applied_sha256 = msg.applied_sha256
    device.reported_group = msg.group
    device.reported_status = msg.status
    device.reported_error = msg.error
    device.last_seen = utcnow()
    return []


def on_telemetry(session: Session, msg: m.Telemetry) -> list[m.Message]:
    device = _device(session, msg.device_id, msg.kind)
    device.telemetry = msg.model_dump(mode="json", include={"fps", "frame_p99_ms", "cpu_percent", "rss_mb",
                                                             "screen", "applied_version", "ts"})
    device.last_seen = utcnow()
    device.online = True
    return []


def on_command_reply(session: Session, msg: m.CommandReply) -> list[m.Message]:
    row = session.get(CommandLog, msg.request_id)
    if row is None or row.device_id != msg.device_id:
        log.warning("reply to unknown command %s from %s", msg.request_id, msg.device_id)
        return []
    row.ok, row.result, row.error, row.replied_at = msg.ok, msg.result, msg.error, utcnow()
    return []


def on_alert_ack(session: Session, msg: m.AlertAck) -> list[m.Message]:
    if session.get(Alert, msg.alert_id) is None:
        return []
    row = session.get(AlertAckRow, (msg.alert_id, msg.device_id))
    if row is None:
        session.add(AlertAckRow(alert_id=msg.alert_id, device_id=msg.device_id, state=msg.state))
    else:
        row.state, row.at = msg.state, utcnow()
    return []


def on_checkin(session: Session, msg: m.CheckIn, *, site_id: str) -> list[m.Message]:
    ack = m.CheckInAck(site_id=site_id, device_id=msg.device_id, checkin_id=msg.checkin_id)
    if session.get(CheckInRow, msg.checkin_id) is not None:
        return [ack]  # a re-sent copy: already stored, ack again
    meeting = session.get(Item, msg.meeting_id)
    if meeting is None or meeting.kind != "meeting":
        return [ack.model_copy(update={"accepted": False, "reason": "未知会议"})]
    duplicate = session.scalar(select(CheckInRow).where(CheckInRow.meeting_id == msg.meeting_id,
                                                        CheckInRow.member_id == msg.member_id))
    if duplicate is not None:
        return [ack.model_copy(update={"reason": "已签到"})]
    # The admin's own record of the name wins: a robot only knows a neutral
    # form of address for members who did not consent to their name on screens.
    member = session.get(Member, msg.member_id)
    session.add(CheckInRow(checkin_id=msg.checkin_id, meeting_id=msg.meeting_id, member_id=msg.member_id,
                           member_name=member.name if member is not None else msg.member_name,
                           device_id=msg.device_id, method=msg.method,
                           score=msg.score, late=msg.late, at=dt.datetime.fromtimestamp(msg.ts, dt.timezone.utc)
                           .replace(tzinfo=None)))
    session.flush()
    return [ack, *attendance_boards(session, meeting_id=msg.meeting_id, site_id=site_id)]


def meeting_data(session: Session, meeting_id: str) -> dict | None:
    item = session.get(Item, meeting_id)
    if item is None or item.kind != "meeting":
        return None
    ver = session.get(ItemVersion, item.live_version_id or item.head_version_id)
    return ver.data if ver else None


def attendance_boards(session: Session, *, meeting_id: str, site_id: str) -> list[m.AttendanceBoard]:
    """The live board for every group a check-in device of the meeting is in."""
    data = meeting_data(session, meeting_id)
    if data is None:
        return []
    rows = session.scalars(select(CheckInRow).where(CheckInRow.meeting_id == meeting_id).order_by(CheckInRow.at))
    present = []
    for row in rows:
        member = session.get(Member, row.member_id)
        # Without consent to show the name on screens, the board shows a count only.
        shown = row.member_name if member is None or member.consent_display_name else "党员"
        present.append({"member_id": row.member_id, "name": shown, "late": row.late,
                        "at": row.at.replace(tzinfo=dt.timezone.utc).timestamp()})
    groups: set[str] = set()
    for device_id in data.get("check_in_devices") or []:
        device = session.get(Device, device_id)
        if device is not None:
            groups.update(device.groups)
    groups = groups or {"lobby"}
    return [m.AttendanceBoard(site_id=site_id, group=g, meeting_id=meeting_id, meeting_title=data.get("title", ""),
                              expected=len(data.get("expected_members") or []), present=present)
            for g in sorted(groups)]


def on_points(session: Session, msg: m.LearningPoints, *, site_id: str,
              pin_guard=None) -> list[m.Message]:  # noqa: ANN001
    """``pin_guard`` (``admin.ratelimit.PinGuard``) limits wrong-PIN guesses per member and per kiosk."""
    member = session.scalar(select(Member).where(Member.member_no == msg.member_no))
    ack = m.PointsAck(site_id=site_id, device_id=msg.device_id, event_id=msg.event_id)
    if member is None:
        return [ack.model_copy(update={"accepted": False, "reason": "未知党员编号"})]
    if session.get(PointsEvent, msg.event_id) is not None:
        # A re-delivery of an event already credited: ack again, credit nothing.
        return [ack.model_copy(update={"total": member.points_total})]
    if member.pin_hash is None:
        return [ack.model_copy(update={"accepted": False, "reason": "该党员尚未设置积分密码，请联系党务工作者"})]
    who = {"member_no": msg.member_no, "device_id": msg.device_id}
    if pin_guard is not None and (wait := pin_guard.wait_s(**who)):
        return [ack.model_copy(update={"accepted": False, "reason": f"密码错误次数过多，请 {wait} 秒后再试"})]
    if not msg.pin or not security.verify_password(msg.pin, member.pin_hash):
        log.warning("points refused for member %s from %s: wrong PIN", msg.member_no, msg.device_id)
        if pin_guard is not None:
            pin_guard.failed(**who)
        return [ack.model_copy(update={"accepted": False, "reason": "党员编号或密码错误"})]
    if pin_guard is not None:
        pin_guard.succeeded(**who)
    session.add(PointsEvent(event_id=msg.event_id, member_no=msg.member_no, points=msg.points,
                            reason=msg.reason, item_id=msg.item_id, device_id=msg.device_id))
    member.points_total += msg.points
    return [ack.model_copy(update={"total": member.points_total})]


def on_exhibit_view(session: Session, msg: m.ExhibitView) -> list[m.Message]:
    session.add(ExhibitViewRow(device_id=msg.device_id, event=msg.event, exhibit_id=msg.exhibit_id,
                               dwell_s=msg.dwell_s, stops_seen=msg.stops_seen))
    return []


def on_play(session: Session, msg: m.ProofOfPlay, *, site_id: str) -> list[m.Message]:
    ack = m.ProofOfPlayAck(site_id=site_id, device_id=msg.device_id, batch_id=msg.batch_id)
    if session.get(PlayBatch, msg.batch_id) is not None:
        return [ack]
    device = session.get(Device, msg.device_id)
    group = (device.reported_group or (device.groups[0] if device.groups else None)) if device else None
    session.add(PlayBatch(batch_id=msg.batch_id, device_id=msg.device_id))
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(DEFAULT_TZ)
    for rec in msg.records:
        day = dt.datetime.fromtimestamp(rec.started_at, tz).date()
        session.add(PlayRecordRow(batch_id=msg.batch_id, device_id=msg.device_id, group=group, item_id=rec.item_id,
                                  version_sha256=rec.version_sha256, started_at=rec.started_at,
                                  duration_s=rec.duration_s, day=day))
    return [ack]


def on_device_error(session: Session, msg: m.DeviceError) -> list[m.Message]:
    device = _device(session, msg.device_id)
    device.reported_error = f"{msg.error} ({msg.context})" if msg.context else msg.error
    return []


def store(session: Session, handler, msg, **kw) -> list[m.Message]:  # noqa: ANN001
    """Run one handler in its own transaction. A duplicate insert racing another
    copy of the same message means it is stored already: the handler runs once
    more, finds the row and gives its acknowledgement, so the device stops
    re-sending now rather than at its next retry."""
    for attempt in (1, 2):
        try:
            replies = handler(session, msg, **kw)
            session.commit()
            return replies
        except IntegrityError:
            session.rollback()
            log.log(logging.INFO if attempt == 1 else logging.WARNING, "duplicate %s: %s", type(msg).__name__,
                    "stored by a concurrent copy, acknowledging" if attempt == 1
                    else "could not be acknowledged; the device will re-send")
    return []


def unacked_devices(session: Session, *, alert: Alert) -> list[Device]:
    """Devices the alert was sent to that have not acknowledged it yet."""
    acked = set(session.scalars(select(AlertAckRow.device_id).where(AlertAckRow.alert_id == alert.id)))
    targets = []
    for device in session.scalars(select(Device).order_by(Device.id)):
        if "all" in alert.groups or set(device.groups) & set(alert.groups):
            if device.id not in acked:
                targets.append(device)
    return targets


def count_online(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Device).where(Device.online.is_(True))) or 0
