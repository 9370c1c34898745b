"""Passwords, tokens and login back-off: small pure helpers, no web framework."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the same
# time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Tokens are stored by digest: a stolen database holds no usable session."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def generate_password() -> str:
    # Readable for a person typing it from a printout: no 0/O, 1/l/I.
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14))


def login_delay_s(failures: int, *, free: int, cap: int) -> int:
    """Seconds the account must wait after ``failures`` consecutive failures.

    The first ``free`` failures cost nothing (typos); then 2, 4, 8 ... seconds,
    capped, so an online guesser gets a handful of tries per minute while the
    real user is never locked out for long.
    """
    if failures < free:
        return 0
    return min(cap, 2 ** (failures - free + 1))


def locked_until(now: dt.datetime, failures: int, *, free: int, cap: int) -> dt.datetime | None:
    delay = login_delay_s(failures, free=free, cap=cap)
    return now + dt.timedelta(seconds=delay) if delay else None
