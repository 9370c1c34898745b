"""Users, sessions, API tokens and login back-off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from admin import security
from admin.models import ROLES, AuthToken, User, utcnow


class UserError(ValueError):
    pass


def get_by_name(session: Session, *, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def get(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_all(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def create(session: Session, *, name: str, role: str, password: str, display_name: str = "",
           branch_id: str | None = None) -> User:
    if role not in ROLES:
        raise UserError(f"未知角色 {role!r}，可选：{', '.join(ROLES)}")
    if len(password) < security.MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {security.MIN_PASSWORD_LENGTH} 位")
    if get_by_name(session, name=name) is not None:
        raise UserError(f"用户 {name} 已存在")
    user = User(name=name, role=role, display_name=display_name or name, branch_id=branch_id,
                password_hash=security.hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    if len(password) < security.MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {security.MIN_PASSWORD_LENGTH} 位")
    user.password_hash = security.hash_password(password)
    session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))


class LoginRefused(Exception):
    def __init__(self, message: str, retry_after_s: int = 0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def authenticate(session: Session, *, name: str, password: str, free_failures: int, max_delay_s: int,
                 now: dt.datetime | None = None, unknown_names=None) -> User:  # noqa: ANN001
    """The user, or ``LoginRefused``. Failures push ``locked_until`` further out.

    ``unknown_names`` (``admin.ratelimit.Backoff``) gives names that are no
    account the same back-off, so a 429 after a few tries does not tell a
    guesser that the account exists."""
    now = now or utcnow()
    user = get_by_name(session, name=name)
    wait = 0
    if user is not None and user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
    elif user is None and unknown_names is not None:
        wait = unknown_names.wait_s(name)
    if wait:
        raise LoginRefused(f"登录失败次数过多，请 {wait} 秒后再试", retry_after_s=wait)
    ok = security.verify_password(password, user.password_hash if user else None)
    if user is None or not ok or user.disabled:
        if user is not None:
            user.failed_logins += 1
            user.locked_until = security.locked_until(now, user.failed_logins, free=free_failures,
                                                      cap=max_delay_s)
        elif unknown_names is not None:
            unknown_names.failed(name)
        raise LoginRefused("用户名或密码错误")
    user.failed_logins = 0
    user.locked_until = None
    return user


def issue_token(session: Session, *, user: User, kind: str, max_age_s: int) -> tuple[str, AuthToken]:
    """A new secret (returned once, stored only as a digest)."""
    secret = security.new_secret()
    row = AuthToken(token_sha256=security.token_digest(secret), user_id=user.id, kind=kind,
                    csrf=security.new_secret(24) if kind == "session" else "",
                    expires_at=utcnow() + dt.timedelta(seconds=max_age_s))
    session.add(row)
    return secret, row


def resolve_token(session: Session, *, secret: str, kind: str) -> tuple[User, AuthToken] | None:
    row = session.get(AuthToken, security.token_digest(secret))
    if row is None or row.kind != kind or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return user, row


def revoke_token(session: Session, *, secret: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_sha256 == security.token_digest(secret)))
