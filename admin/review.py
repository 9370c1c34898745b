"""The two-level review (分级审核) as a pure state machine.

    draft --submit--> submitted --approve L1--> approved_l1 --approve L2--> approved --publish--> published
                          \\______________ reject (comment) ______________/
                                         back to draft

Level 2 is needed only for items marked important and for every emergency
alert; otherwise the level-1 approval makes the version ``approved``.
Nobody approves a version they wrote, and the two approvals come from two
different people. Nothing here touches the database: the caller passes the
facts and stores the outcome, so the rules are tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT, SUBMITTED, APPROVED_L1, APPROVED, PUBLISHED, SUPERSEDED = (
    "draft", "submitted", "approved_l1", "approved", "published", "superseded")

STATUS_LABELS = {
    DRAFT: "草稿", SUBMITTED: "待一级审核", APPROVED_L1: "待二级审核", APPROVED: "已批准待发布",
    PUBLISHED: "已发布", SUPERSEDED: "已被新版本取代", "sent": "已发送", "cancelled": "已撤销",
}

EDIT_ROLES = {"editor", "admin"}
LEVEL1_ROLES = {"reviewer", "publisher", "admin"}
LEVEL2_ROLES = {"publisher", "admin"}
PUBLISH_ROLES = {"publisher", "admin"}


class ReviewError(Exception):
    """A transition the rules refuse; the message is shown to the user (Chinese)."""

    def __init__(self, message: str, *, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Actor:
    id: int
    role: str


@dataclass(frozen=True)
class PastApproval:
    level: int
    user_id: int


def submit(status: str, actor: Actor) -> str:
    if actor.role not in EDIT_ROLES:
        raise ReviewError("只有编辑或管理员可以提交审核", status_code=403)
    if status != DRAFT:
        raise ReviewError(f"当前状态（{STATUS_LABELS.get(status, status)}）不能提交审核")
    return SUBMITTED


def approve(status: str, actor: Actor, *, author_id: int | None, needs_level2: bool,
            approvals: list[PastApproval]) -> tuple[str, int]:
    """Returns (new status, level approved at)."""
    if actor.id == author_id:
        raise ReviewError("不能审核自己编写的内容", status_code=403)
    if status == SUBMITTED:
        level = 1
        if actor.role not in LEVEL1_ROLES:
            raise ReviewError("只有审核员、发布员或管理员可以进行一级审核", status_code=403)
        return (APPROVED_L1 if needs_level2 else APPROVED), level
    if status == APPROVED_L1:
        level = 2
        if actor.role not in LEVEL2_ROLES:
            raise ReviewError("二级审核需要发布员（党委）或管理员", status_code=403)
        if any(a.user_id == actor.id for a in approvals if a.level == 1):
            raise ReviewError("一级和二级审核必须由不同的人完成", status_code=403)
        return APPROVED, level
    raise ReviewError(f"当前状态（{STATUS_LABELS.get(status, status)}）不能审核")


def reject(status: str, actor: Actor, *, author_id: int | None, comment: str) -> str:
    if not comment.strip():
        raise ReviewError("退回必须填写意见", status_code=422)
    if actor.id == author_id:
        raise ReviewError("不能审核自己编写的内容", status_code=403)
    needed = LEVEL1_ROLES if status == SUBMITTED else LEVEL2_ROLES
    if actor.role not in needed:
        raise ReviewError("没有退回该内容的权限", status_code=403)
    if status not in (SUBMITTED, APPROVED_L1, APPROVED):
        raise ReviewError(f"当前状态（{STATUS_LABELS.get(status, status)}）不能退回")
    return DRAFT


def publish(status: str, actor: Actor) -> str:
    if actor.role not in PUBLISH_ROLES:
        raise ReviewError("只有发布员或管理员可以发布", status_code=403)
    if status == PUBLISHED:
        return PUBLISHED
    if status != APPROVED:
        raise ReviewError(f"内容尚未通过审核（{STATUS_LABELS.get(status, status)}），不能发布")
    return PUBLISHED


def edit_starts_new_version(status: str) -> bool:
    """A draft is edited in place (nobody has reviewed it); anything that was
    submitted, approved or published stays frozen and the edit becomes a new
    version that needs review again."""
    return status != DRAFT
