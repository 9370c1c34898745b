"""User management (admin only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from admin.crud import audit
from admin.crud import users as crud_users
from admin.deps import Admin, SessionDep

router = APIRouter(prefix="/api/users", tags=["users"])
Role = Literal["editor", "reviewer", "publisher", "admin", "auditor"]


class UserOut(BaseModel):
    id: int
    name: str
    display_name: str
    role: str
    branch_id: str | None
    disabled: bool


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    role: Role
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(default="", max_length=100)
    branch_id: str | None = Field(default=None, max_length=64)


class UserPatch(BaseModel):
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)


def _out(u) -> UserOut:  # noqa: ANN001
    return UserOut(id=u.id, name=u.name, display_name=u.display_name, role=u.role, branch_id=u.branch_id,
                   disabled=u.disabled)


@router.get("", response_model=list[UserOut], summary="用户列表")
def list_users(session: SessionDep, _: Admin) -> list[UserOut]:
    return [_out(u) for u in crud_users.list_all(session)]


@router.post("", response_model=UserOut, status_code=201, summary="新建用户")
def create_user(body: UserIn, session: SessionDep, admin: Admin) -> UserOut:
    user = crud_users.create(session, name=body.name, role=body.role, password=body.password,
                             display_name=body.display_name, branch_id=body.branch_id)
    audit.record(session, user=admin, action="user_create", target=user.name, detail=user.role)
    session.commit()
    return _out(user)


@router.patch("/{user_id}", response_model=UserOut, summary="修改用户")
def patch_user(user_id: Annotated[int, Path(ge=1, le=2**31)], body: UserPatch, session: SessionDep,
               admin: Admin) -> UserOut:
    user = crud_users.get(session, user_id=user_id)
    if user is None:
        raise HTTPException(404, "用户不存在")
    changes = body.model_dump(exclude_unset=True, exclude_none=True, exclude={"password"})
    for key, value in changes.items():
        setattr(user, key, value)
    if body.password:
        crud_users.set_password(session, user=user, password=body.password)
        changes["password"] = "***"
    audit.record(session, user=admin, action="user_update", target=user.name, detail=str(changes))
    session.commit()
    return _out(user)
