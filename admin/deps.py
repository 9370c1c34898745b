"""FastAPI dependencies: the database session, the current user, role checks.

Browsers authenticate with a session cookie and must echo the session's CSRF
token (header ``X-CSRF-Token`` or form field ``csrf_token``) on every unsafe
request; API clients send ``Authorization: Bearer <token>`` and need no CSRF
token, because a browser never attaches that header on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from admin import security
from admin.context import AdminContext
from admin.crud import users as crud_users
from admin.models import AuthToken, User

SESSION_COOKIE = "hall_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_ctx(request: Request) -> AdminContext:
    return request.app.state.ctx


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.ctx.sessions() as session:
        yield session


CtxDep = Annotated[AdminContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_db)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _csrf_from_request(request: Request) -> str:
    token = request.headers.get("x-csrf-token")
    if token:
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else ""
    return ""


async def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user or None; enforces CSRF for cookie sessions."""
    bearer = _bearer(request)
    if bearer:
        found = crud_users.resolve_token(session, secret=bearer, kind="api")
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "令牌无效或已过期",
                                headers={"WWW-Authenticate": "Bearer"})
        request.state.auth = found[1]
        return found[0]
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = crud_users.resolve_token(session, secret=cookie, kind="session")
    if found is None:
        return None
    user, token = found
    if request.method not in SAFE_METHODS:
        sent = await _csrf_from_request(request)
        if not sent or not security.same(sent, token.csrf):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF 校验失败，请刷新页面后重试")
    request.state.auth = token
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "请先登录", headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_roles(*roles: str) -> Callable[[User], User]:
    allowed = set(roles) | {"admin"}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "没有权限执行此操作")
        return user

    return check


def session_token(request: Request) -> AuthToken | None:
    return getattr(request.state, "auth", None)


Editor = Annotated[User, Depends(require_roles("editor"))]
Publisher = Annotated[User, Depends(require_roles("publisher"))]
Admin = Annotated[User, Depends(require_roles())]
Auditor = Annotated[User, Depends(require_roles("auditor"))]
Reader = CurrentUser
