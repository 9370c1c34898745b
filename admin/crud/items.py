"""Content items and their immutable versions, and the review transitions.

Every transition writes an audit entry with the version's content hash, in
the same transaction as the change itself: there is no state without its
audit line.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from admin import review
from admin.crud import audit
from admin.models import Approval, Item, ItemVersion, MediaFile, User, utcnow
from content.model import ItemBase, parse_item

MEDIA_FIELDS = ("image", "audio", "model")


class ItemInvalid(ValueError):
    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class StaleEdit(Exception):
    """The editor started from an older version than the newest one."""

    def __init__(self, newest: ItemVersion) -> None:
        super().__init__(f"内容已被他人修改，最新版本为第 {newest.number} 版")
        self.newest = newest


def content_hash(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "version_sha256"}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def media_hashes(data: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for name in MEDIA_FIELDS:
        ref = data.get(name)
        if isinstance(ref, dict) and ref.get("sha256"):
            found.add(ref["sha256"])
    for ref in data.get("images") or []:
        if isinstance(ref, dict) and ref.get("sha256"):
            found.add(ref["sha256"])
    return found


def validate(session: Session, data: dict[str, Any]) -> ItemBase:
    """Parse with the shared content model and check every media file exists."""
    try:
        item = parse_item(data)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise ItemInvalid("内容格式不正确", errors) from exc
    clean = item.model_dump(mode="json", exclude={"version_sha256"})
    missing = [h for h in media_hashes(clean) if session.get(MediaFile, h) is None]
    if missing:
        raise ItemInvalid("引用的媒体文件不存在：" + ", ".join(sorted(missing)))
    return item


def get(session: Session, *, item_id: str) -> Item | None:
    return session.get(Item, item_id)


def version(session: Session, *, version_id: int | None) -> ItemVersion | None:
    return session.get(ItemVersion, version_id) if version_id is not None else None


def version_by_number(session: Session, *, item_id: str, number: int) -> ItemVersion | None:
    return session.scalar(select(ItemVersion).where(ItemVersion.item_id == item_id, ItemVersion.number == number))


def versions(session: Session, *, item_id: str) -> list[ItemVersion]:
    return list(session.scalars(select(ItemVersion).where(ItemVersion.item_id == item_id)
                                .order_by(ItemVersion.number.desc())))


def version_numbers(session: Session, *, version_ids: list[int]) -> dict[int, int]:
    """Version id -> number, in one query (for lists)."""
    if not version_ids:
        return {}
    query = select(ItemVersion.id, ItemVersion.number).where(ItemVersion.id.in_(version_ids))
    return dict(session.execute(query).all())


def approvals(session: Session, *, version_id: int) -> list[Approval]:
    return list(session.scalars(select(Approval).where(Approval.version_id == version_id).order_by(Approval.id)))


def list_items(session: Session, *, kind: str | None = None, status: str | None = None, q: str | None = None,
               limit: int = 100, offset: int = 0) -> tuple[list[Item], int]:
    query = select(Item).where(Item.retired.is_(False))
    if kind:
        query = query.where(Item.kind == kind)
    if status:
        query = query.where(Item.status == status)
    if q:
        query = query.where(or_(Item.title.contains(q), Item.id.contains(q)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Item.updated_at.desc(), Item.id).limit(limit).offset(offset))
    return list(rows), total


_HEAD, _LIVE = aliased(ItemVersion), aliased(ItemVersion)  # built once: aliasing costs per call


def list_rows(session: Session, *, kind: str | None = None, status: str | None = None, q: str | None = None,
              limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The list view as plain rows in one query (head and live version numbers
    joined in): the list is the admin's most requested page, so no ORM objects."""
    head, live = _HEAD, _LIVE
    where = [Item.retired.is_(False)]
    if kind:
        where.append(Item.kind == kind)
    if status:
        where.append(Item.status == status)
    if q:
        where.append(or_(Item.title.contains(q), Item.id.contains(q)))
    total = session.scalar(select(func.count()).select_from(Item).where(*where)) or 0
    query = (select(Item.id, Item.kind, Item.title, Item.important, Item.status, Item.updated_at,
                    head.number.label("head_version"), live.number.label("live_version"))
             .outerjoin(head, head.id == Item.head_version_id).outerjoin(live, live.id == Item.live_version_id)
             .where(*where).order_by(Item.updated_at.desc(), Item.id).limit(limit).offset(offset))
    return [dict(row._mapping) for row in session.execute(query)], total


def _new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}"


def create(session: Session, *, data: dict[str, Any], author: User | None) -> tuple[Item, ItemVersion]:
    data = dict(data)
    data.setdefault("id", _new_id(str(data.get("kind", "item"))))
    parsed = validate(session, data)
    if session.get(Item, parsed.id) is not None:
        raise ItemInvalid(f"编号 {parsed.id} 已被使用")
    clean = parsed.model_dump(mode="json", exclude={"version_sha256"})
    item = Item(id=parsed.id, kind=parsed.kind, title=parsed.title, important=parsed.important,
                status=review.DRAFT, created_by=author.id if author else None)
    session.add(item)
    ver = ItemVersion(item_id=item.id, number=1, data=clean, sha256=content_hash(clean), status=review.DRAFT,
                      author_id=author.id if author else None)
    session.add(ver)
    session.flush()
    item.head_version_id = ver.id
    audit.record(session, user=author, action="create", target=item.id, version_sha256=ver.sha256,
                 detail=f"{item.kind}: {item.title}")
    return item, ver


def update(session: Session, *, item: Item, data: dict[str, Any], base_version: int | None,
           author: User) -> ItemVersion:
    head = _head(session, item)
    if base_version is not None and base_version != head.number:
        raise StaleEdit(head)
    data = dict(data)
    data["id"] = item.id
    data["kind"] = item.kind
    parsed = validate(session, data)
    clean = parsed.model_dump(mode="json", exclude={"version_sha256"})
    sha = content_hash(clean)
    if sha == head.sha256:
        return head
    if review.edit_starts_new_version(head.status):
        if head.status in (review.SUBMITTED, review.APPROVED_L1, review.APPROVED):
            head.status = review.SUPERSEDED
        ver = ItemVersion(item_id=item.id, number=head.number + 1, data=clean, sha256=sha,
                          status=review.DRAFT, author_id=author.id)
        session.add(ver)
        session.flush()
        item.head_version_id = ver.id
    else:
        ver = head
        ver.data, ver.sha256, ver.author_id = clean, sha, author.id
    item.title, item.important, item.status, item.updated_at = parsed.title, parsed.important, ver.status, utcnow()
    audit.record(session, user=author, action="edit", target=item.id, version_sha256=sha,
                 detail=f"第 {ver.number} 版")
    return ver


def needs_level2(item: Item) -> bool:
    return item.important


def _actor(user: User) -> review.Actor:
    return review.Actor(id=user.id, role=user.role)


def _head(session: Session, item: Item) -> ItemVersion:
    head = version(session, version_id=item.head_version_id)
    if head is None:
        raise review.ReviewError("内容没有版本")
    return head


def submit(session: Session, *, item: Item, user: User) -> ItemVersion:
    head = _head(session, item)
    head.status = review.submit(head.status, _actor(user))
    item.status, item.updated_at = head.status, utcnow()
    audit.record(session, user=user, action="submit", target=item.id, version_sha256=head.sha256,
                 detail=f"第 {head.number} 版")
    return head


def approve(session: Session, *, item: Item, user: User, comment: str = "") -> ItemVersion:
    head = _head(session, item)
    past = [review.PastApproval(level=a.level, user_id=a.user_id)
            for a in approvals(session, version_id=head.id) if a.decision == "approve"]
    new_status, level = review.approve(head.status, _actor(user), author_id=head.author_id,
                                       needs_level2=needs_level2(item), approvals=past)
    session.add(Approval(version_id=head.id, level=level, user_id=user.id, decision="approve", comment=comment))
    head.status = new_status
    item.status, item.updated_at = new_status, utcnow()
    audit.record(session, user=user, action=f"approve_l{level}", target=item.id, version_sha256=head.sha256,
                 detail=comment)
    return head


def reject(session: Session, *, item: Item, user: User, comment: str) -> ItemVersion:
    head = _head(session, item)
    level = 1 if head.status == review.SUBMITTED else 2
    head.status = review.reject(head.status, _actor(user), author_id=head.author_id, comment=comment)
    session.add(Approval(version_id=head.id, level=level, user_id=user.id, decision="reject", comment=comment))
    item.status, item.updated_at = head.status, utcnow()
    audit.record(session, user=user, action="reject", target=item.id, version_sha256=head.sha256, detail=comment)
    return head


def publish(session: Session, *, item: Item, user: User | None, actor_role_check: bool = True) -> ItemVersion:
    head = _head(session, item)
    if actor_role_check and user is not None:
        head.status = review.publish(head.status, _actor(user))
    else:
        head.status = review.PUBLISHED
    previous = version(session, version_id=item.live_version_id)
    if previous is not None and previous.id != head.id:
        previous.status = review.SUPERSEDED
    item.live_version_id = head.id
    item.status, item.updated_at = head.status, utcnow()
    audit.record(session, user=user, action="publish", target=item.id, version_sha256=head.sha256,
                 detail=f"第 {head.number} 版")
    return head


def retire(session: Session, *, item: Item, user: User) -> None:
    item.retired = True
    item.updated_at = utcnow()
    audit.record(session, user=user, action="retire", target=item.id)


def live_items(session: Session) -> list[tuple[Item, ItemVersion]]:
    """Every item with a published version, for manifests."""
    rows = session.execute(select(Item, ItemVersion).join(ItemVersion, ItemVersion.id == Item.live_version_id)
                           .where(Item.retired.is_(False)).order_by(Item.kind, Item.id))
    return [(item, ver) for item, ver in rows]
