"""Database tables (SQLAlchemy 2 typed declarative).

Content is stored as immutable versions: an edit never changes a row that was
reviewed, it adds a new ``ItemVersion`` with its own content hash. The audit log
is append-only; the migration adds triggers that refuse UPDATE and DELETE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, list[str]: JSON}


ROLES = ("editor", "reviewer", "publisher", "admin", "auditor")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    branch_id: Mapped[str | None] = mapped_column(String(64), default=None)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuthToken(Base):
    """A browser session (kind "session", with its CSRF token) or an API bearer token.
    Only the sha256 of the secret is stored."""

    __tablename__ = "auth_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    csrf: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Item(Base):
    __tablename__ = "items"
    # The list view: count and newest-first page of the items not retired.
    __table_args__ = (Index("ix_items_retired_updated", "retired", "updated_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(200))
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    # The newest version (what an editor sees) and the one on screens now.
    head_version_id: Mapped[int | None] = mapped_column(Integer, default=None)
    live_version_id: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class ItemVersion(Base):
    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # draft, submitted, approved_l1, approved, published, rejected, superseded
    status: Mapped[str] = mapped_column(String(16), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(100), default="", index=True)
    version_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")


class MediaFile(Base):
    __tablename__ = "media"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    thumb_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DeviceGroup(Base):
    __tablename__ = "device_groups"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    default_playlist_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Item kinds this group's manifest carries (robots need FAQ and exhibits, not
    # news pictures); empty means every kind.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    manifest_version: Mapped[int] = mapped_column(Integer, default=0)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    # The desired state could not reach the broker yet; sent again on reconnect.
    publish_pending: Mapped[bool] = mapped_column(Boolean, default=False)


class Playlist(Base):
    __tablename__ = "playlists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    entries: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ScheduleRule(Base):
    __tablename__ = "schedule_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group: Mapped[str] = mapped_column(ForeignKey("device_groups.name", ondelete="CASCADE"), index=True)
    playlist_id: Mapped[str] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    date_from: Mapped[dt.date | None] = mapped_column(default=None)
    date_to: Mapped[dt.date | None] = mapped_column(default=None)
    weekdays: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    time_from: Mapped[dt.time | None] = mapped_column(default=None)
    time_to: Mapped[dt.time | None] = mapped_column(default=None)


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(100), default="")
    mqtt_password_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    applied_version: Mapped[int | None] = mapped_column(Integer, default=None)
    applied_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    reported_group: Mapped[str | None] = mapped_column(String(64), default=None)
    reported_status: Mapped[str | None] = mapped_column(String(16), default=None)
    reported_error: Mapped[str | None] = mapped_column(Text, default=None)
    telemetry: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    screenshot_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    screenshot_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CommandLog(Base):
    __tablename__ = "commands"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    command: Mapped[str] = mapped_column(String(16))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    ok: Mapped[bool | None] = mapped_column(Boolean, default=None)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(16), default="critical")
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    # draft -> submitted -> approved_l1 -> approved -> sent -> cancelled (or rejected)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class AlertApproval(Base):
    __tablename__ = "alert_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AlertAckRow(Base):
    __tablename__ = "alert_acks"

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PlayBatch(Base):
    """Proof-of-play batches already stored (dedupe on redelivery)."""

    __tablename__ = "play_batches"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PlayRecordRow(Base):
    __tablename__ = "play_records"
    __table_args__ = (Index("ix_play_day_item", "day", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    group: Mapped[str | None] = mapped_column(String(64), default=None)
    item_id: Mapped[str] = mapped_column(String(64))
    version_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    started_at: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    day: Mapped[dt.date] = mapped_column()


class Member(Base):
    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    member_no: Mapped[str] = mapped_column(String(32), unique=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    consent_face: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_display_name: Mapped[bool] = mapped_column(Boolean, default=True)
    points_total: Mapped[int] = mapped_column(Integer, default=0)
    # argon2 hash of the kiosk sign-in PIN for learning points; never the PIN itself
    pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CheckInRow(Base):
    __tablename__ = "checkins"

    checkin_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(64), index=True)
    member_id: Mapped[str] = mapped_column(String(64))
    member_name: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float, default=None)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PointsEvent(Base):
    __tablename__ = "points_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(32), index=True)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str | None] = mapped_column(String(64), default=None)
    device_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ExhibitViewRow(Base):
    __tablename__ = "exhibit_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(24))
    exhibit_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    dwell_s: Mapped[float | None] = mapped_column(Float, default=None)
    stops_seen: Mapped[int | None] = mapped_column(Integer, default=None)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SiteSetting(Base):
    """Small site-wide values (the organisation map, kiosk settings) by key."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
