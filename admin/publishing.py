"""Publishing a group from the admin's side: compile from the database, hand
the manifest to ``admin.publish.Publisher`` (sign, store, desired state) and
record the outcome on the group and in the audit log."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.compile import build_manifest
from admin.context import AdminContext
from admin.crud import audit
from admin.models import DeviceGroup, User, utcnow

log = logging.getLogger(__name__)


def publish_group(ctx: AdminContext, session: Session, *, group: DeviceGroup,
                  user: User | str | None) -> dict[str, Any]:
    manifest = build_manifest(session, group=group, site_id=ctx.settings.site_id)
    result = ctx.extras["publisher"].publish(manifest)
    if result.changed:
        group.manifest_version = result.version
        group.manifest_sha256 = result.manifest_sha256
        group.published_at = utcnow()
        audit.record(session, user=user, action="publish_group", target=group.name,
                     version_sha256=result.manifest_sha256,
                     detail=f"清单第 {result.version} 版，{len(manifest.items)} 条内容")
    group.publish_pending = not result.delivered
    return asdict(result)


def publish_all(ctx: AdminContext, session: Session, *, user: User | str | None) -> list[dict[str, Any]]:
    groups = list(session.scalars(select(DeviceGroup).order_by(DeviceGroup.name)))
    return [publish_group(ctx, session, group=g, user=user) for g in groups]
