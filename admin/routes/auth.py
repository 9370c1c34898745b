"""API tokens: ``POST /api/auth/token`` with name and password returns a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from admin.crud import audit
from admin.crud import users as crud_users
from admin.deps import CtxDep, CurrentUser, SessionDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Credentials(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str


class Me(BaseModel):
    id: int
    name: str
    display_name: str
    role: str
    branch_id: str | None


@router.post("/token", response_model=TokenOut, summary="用户名密码换取 API 令牌")
def issue_token(body: Credentials, session: SessionDep, ctx: CtxDep) -> TokenOut:
    s = ctx.settings
    try:
        user = crud_users.authenticate(session, name=body.name, password=body.password,
                                       free_failures=s.login_free_failures, max_delay_s=s.login_max_delay_s,
                                       unknown_names=ctx.extras.get("unknown_logins"))
    except crud_users.LoginRefused as exc:
        audit.record(session, user=body.name, action="login_failed", detail="api")
        session.commit()
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        code = status.HTTP_429_TOO_MANY_REQUESTS if exc.retry_after_s else status.HTTP_401_UNAUTHORIZED
        raise HTTPException(code, str(exc), headers=headers) from exc
    secret, _ = crud_users.issue_token(session, user=user, kind="api", max_age_s=s.api_token_max_age_s)
    audit.record(session, user=user, action="login", detail="api")
    session.commit()
    return TokenOut(access_token=secret, role=user.role)


@router.post("/logout", status_code=204, summary="作废当前令牌")
def logout(request: Request, user: CurrentUser, session: SessionDep) -> None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        crud_users.revoke_token(session, secret=header[7:].strip())
        audit.record(session, user=user, action="logout", detail="api")
        session.commit()


@router.get("/me", response_model=Me, summary="当前用户")
def me(user: CurrentUser) -> Me:
    return Me(id=user.id, name=user.name, display_name=user.display_name, role=user.role, branch_id=user.branch_id)
