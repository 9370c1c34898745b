"""One router per resource."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from . import alerts, attendance, audit, auth, devices, faces, groups, items, media_upload, members, reports, users

    return [auth.router, users.router, items.router, media_upload.router, audit.router, groups.router,
            alerts.router, devices.router, reports.router, members.router, faces.router,
            attendance.router]
