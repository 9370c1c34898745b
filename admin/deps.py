"""FastAPI dependencies: the database session, the current user, role checks.

Browsers authenticate with a session cookie and must echo the session's CSRF
token (header ``X-CSRF-Token``, sent by ``static/app.js``) on every unsafe
request; API clients send ``Authorization: Bearer <token>`` and need no CSRF
token, because a browser never attaches that header on its own.

The hot read-only list endpoints use ``CachedReader`` instead of
``CurrentUser``: the same checks and answers, but a token resolved a moment
ago is not looked up again (see ``admin.authcache`` for when a remembered
look-up is dropped), and it yields a frozen ``Principal``, not an ORM user.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from admin import security
from admin.authcache import Principal, token_cache_for
from admin.context import AdminContext
from admin.crud import users as crud_users
from admin.models import AuthToken, User

SESSION_COOKIE = "hall_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_ctx(request: Request) -> AdminContext:
    # Async: FastAPI runs a plain def dependency in a worker thread, a hop that
    # costs more than this attribute look-up.
    return request.app.state.ctx


async def get_db(request: Request) -> AsyncIterator[Session]:
    # Async on purpose: creating and closing a Session does no blocking I/O
    # worth a thread, and every thread hop costs latency under load. The
    # queries themselves run in the sync dependencies and endpoints (threads).
    session = request.app.state.ctx.sessions()
    try:
        yield session
    finally:
        session.close()


CtxDep = Annotated[AdminContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_db)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user or None; enforces CSRF for cookie sessions.

    Deliberately synchronous: it queries the database, and an async dependency
    would do that on the event loop, where waiting for a pooled connection under
    load stalls every request (including the ones that would free a connection).
    """
    bearer = _bearer(request)
    if bearer:
        found = crud_users.resolve_token(session, secret=bearer, kind="api")
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "令牌无效或已过期",
                                headers={"WWW-Authenticate": "Bearer"})
        request.state.auth = found[1]
        return found[0]
    found = cookie_session(request, session)
    if found is None:
        return None
    user, token = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not sent or not security.same(sent, token.csrf):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF 校验失败，请刷新页面后重试")
    request.state.auth = token
    return user


def cookie_session(request: Request, session: Session) -> tuple[User, AuthToken] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return crud_users.resolve_token(session, secret=cookie, kind="session")


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "请先登录", headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def cached_reader(request: Request) -> Principal:
    """The caller of a read-only (GET) endpoint, as ``current_user`` decides it:
    401 for a bad bearer token or for nobody signed in. No CSRF check: only
    safe methods may use it. Async, so a remembered token costs no thread hop;
    the database look-up itself runs in a thread."""
    tokens = token_cache_for(request.app.state.ctx)
    bearer = _bearer(request)
    if bearer:
        found = tokens.cached(bearer, "api") or await run_in_threadpool(tokens.resolve, bearer, "api")
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "令牌无效或已过期",
                                headers={"WWW-Authenticate": "Bearer"})
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = tokens.cached(cookie, "session") or await run_in_threadpool(tokens.resolve, cookie, "session")
        if found is not None:
            return found
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "请先登录", headers={"WWW-Authenticate": "Bearer"})


CachedReader = Annotated[Principal, Depends(cached_reader)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_roles(*roles: str) -> Callable[..., object]:
    allowed = set(roles) | {"admin"}

    async def check(user: CurrentUser) -> User:
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
