"""First-start defaults and the demo data set.

``ensure_defaults`` runs at every start: the three standard device groups when
there are none yet, and every device of the shared fleet list (fleet.yaml,
written by `hall up` and `add-device`) known to the database.

``seed_demo`` loads ``content.demo`` as published content (an import by the
system, audited as such, not a review), creates one demo user per role with
generated passwords written once to the data directory, and publishes the
demo groups.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.crud import audit
from admin.crud import items as crud_items
from admin.crud import users as crud_users
from admin.models import Device, DeviceGroup, Item, Member, Playlist, ScheduleRule, SiteSetting
from admin.security import generate_password, hash_password
from admin.settings import AdminSettings

log = logging.getLogger(__name__)

DEFAULT_GROUPS = {"lobby": "大厅触摸屏", "hall": "3D/VR 展厅", "robots": "导览机器人"}
DEMO_USERS = (  # name, role, display name
    ("admin", "admin", "系统管理员"),
    ("bianji", "editor", "宣传委员（编辑）"),
    ("shenhe", "reviewer", "支部书记（一级审核）"),
    ("fabu", "publisher", "党委委员（二级审核、发布）"),
    ("shenji", "auditor", "纪检委员（审计）"),
)
SEEDED_KEY = "demo_seeded"


def ensure_defaults(session: Session, *, settings: AdminSettings) -> None:
    if (session.scalar(select(func.count()).select_from(DeviceGroup)) or 0) == 0:
        for name, description in DEFAULT_GROUPS.items():
            session.add(DeviceGroup(name=name, description=description))
    sync_fleet(session, settings=settings)


def sync_fleet(session: Session, *, settings: AdminSettings) -> None:
    from broker.fleet import Fleet, FleetError

    try:
        fleet = Fleet.load(settings.fleet_file)
    except (FleetError, OSError, ValueError) as exc:
        log.error("cannot read fleet list %s: %s", settings.fleet_file, exc)
        return
    for record in fleet.devices:
        if record.kind not in ("kiosk", "vrhall", "robot"):
            continue
        device = session.get(Device, record.id)
        if device is None:
            session.add(Device(id=record.id, kind=record.kind, groups=list(record.groups), name=record.id))
        elif device.groups != record.groups:
            device.groups = list(record.groups)
        for group in record.groups:
            if session.get(DeviceGroup, group) is None:
                session.add(DeviceGroup(name=group))
                session.flush()


def ensure_demo_users(session: Session, *, settings: AdminSettings) -> dict[str, str]:
    """Create missing demo users; returns {name: password} for the ones created now.
    Passwords go to a 0600 file in the data directory, printed by the CLI once."""
    created: dict[str, str] = {}
    for name, role, display in DEMO_USERS:
        if crud_users.get_by_name(session, name=name) is None:
            password = generate_password()
            crud_users.create(session, name=name, role=role, password=password, display_name=display)
            audit.record(session, user="system", action="user_create", target=name, detail=f"{role} (演示)")
            created[name] = password
    if created:
        _append_secret_file(settings.demo_users_file,
                            "".join(f"{n}\t{dict((u[0], u[1]) for u in DEMO_USERS)[n]}\t{p}\n"
                                    for n, p in created.items()))
    return created


def _append_secret_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(text)


def import_item(session: Session, *, data: dict[str, Any]) -> Item:
    """Store one item as published (the demo import), keeping the existing one."""
    existing = session.get(Item, data["id"])
    if existing is not None:
        return existing
    item, _ = crud_items.create(session, data=data, author=None)
    crud_items.publish(session, item=item, user=None, actor_role_check=False)
    return item


def _dump(obj: Any) -> Any:
    return obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj


def register_media(session: Session, *, store: Any, refs: list[dict[str, Any]]) -> None:
    from admin.models import MediaFile
    from admin.uploads import inspect_image

    for ref in refs:
        sha = ref["sha256"]
        if session.get(MediaFile, sha) is not None or not store.has(sha):
            continue
        thumb = None
        if str(ref.get("mime", "")).startswith("image/"):
            try:
                info = inspect_image(store.read(sha))
                thumb = store.put_bytes(info.thumbnail) if info.thumbnail else None
            except Exception:  # a demo picture without a thumbnail is still usable
                log.warning("no thumbnail for demo media %s", sha[:12])
        session.add(MediaFile(sha256=sha, mime=ref.get("mime", "application/octet-stream"), size=ref.get("size", 0),
                              name=ref.get("name") or "", width=ref.get("width"), height=ref.get("height"),
                              thumb_sha256=thumb))
    session.flush()


def seed_demo(ctx: Any) -> dict[str, Any]:
    """Load the demo content into the database (once) and publish every group."""
    from admin.publishing import publish_all
    from content.demo import load_demo

    with ctx.sessions() as session:
        users = ensure_demo_users(session, settings=ctx.settings)
        session.commit()
        if session.get(SiteSetting, SEEDED_KEY) is None:
            demo = load_demo(ctx.store)
            _import_demo(session, ctx=ctx, demo=demo)
            session.add(SiteSetting(key=SEEDED_KEY, value={"done": True}))
            audit.record(session, user="system", action="demo_import", detail="导入演示内容")
            session.commit()
        results = publish_all(ctx, session, user="system")
        session.commit()
    return {"users": users, "groups": results}


def _import_demo(session: Session, *, ctx: Any, demo: Any) -> None:
    from content.model import Manifest

    from admin.compile import KIOSK_SETTINGS_KEY, MAP_KEY

    items = [_dump(i) for i in demo.items]
    probe = Manifest(site_id="x", group="x", version=0, created_at=0, items=items, map=_dump(demo.map))
    register_media(session, store=ctx.store, refs=[_dump(r) for r in probe.media_refs().values()])
    for data in items:
        data.pop("version_sha256", None)
        import_item(session, data=data)
    session.flush()
    for playlist in demo.playlists:
        p = _dump(playlist)
        if session.get(Playlist, p["id"]) is None:
            session.add(Playlist(id=p["id"], name=p["name"], entries=p.get("entries", [])))
    session.flush()
    for name, kinds in demo.groups.items():
        group = session.get(DeviceGroup, name) or DeviceGroup(name=name, description=DEFAULT_GROUPS.get(name, ""))
        group.kinds = sorted(kinds)
        session.add(group)
        schedule = demo.schedules.get(name, demo.schedule)
        group.default_playlist_id = schedule.default_playlist_id
        session.flush()
        for rule in schedule.rules:
            rule_id = f"{name}.{rule.id}"
            if session.get(ScheduleRule, rule_id) is None:
                session.add(ScheduleRule(id=rule_id, group=name, playlist_id=rule.playlist_id, priority=rule.priority,
                                         date_from=rule.date_from, date_to=rule.date_to, weekdays=rule.weekdays,
                                         time_from=rule.time_from, time_to=rule.time_to))
    if session.get(SiteSetting, MAP_KEY) is None:
        session.add(SiteSetting(key=MAP_KEY, value=_dump(demo.map)))
    if session.get(SiteSetting, KIOSK_SETTINGS_KEY) is None:
        session.add(SiteSetting(key=KIOSK_SETTINGS_KEY,
                                value={"hall": dict(demo.hall), "sections": list(demo.sections)}))
    demo_pin_hash: str | None = None
    for member in demo.members:
        if session.get(Member, member.id) is None:
            if demo_pin_hash is None:
                # One random PIN for the fictional demo members, so the kiosk's
                # learning points can be tried; written beside the demo passwords.
                demo_pin = f"{secrets.randbelow(10**6):06d}"
                demo_pin_hash = hash_password(demo_pin)
                _append_secret_file(ctx.settings.demo_users_file, f"演示党员积分密码\t(所有演示党员)\t{demo_pin}\n")
            session.add(Member(id=member.id, name=member.name, branch_id=member.branch_id,
                               member_no=member.id, consent_face=True, consent_display_name=True,
                               pin_hash=demo_pin_hash))
