"""Token → user look-ups for the hot read-only endpoints, remembered briefly.

Resolving a bearer token or session cookie costs two queries; the list pages
are read hundreds of times a second by the same few clients. A remembered
look-up is a frozen snapshot (``Principal``), never a live ORM object, and is
used again only while all of these hold:

* no session of this process committed a change to ``users`` or
  ``auth_tokens`` since (logout, revocation, password change, deactivation,
  role change take effect on the very next request in this process);
* on SQLite, no connection of any process committed anything since (``PRAGMA
  data_version``): a change made by another worker is seen at once too;
* it is younger than ``TTL_S`` (the bound across processes on databases
  without a data version) and the token has not expired.

Refusals are not remembered: an unknown token always costs the full look-up.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

from admin import security
from admin.crud import users as crud_users
from admin.listcache import Changes, Stamp, changes_for
from admin.models import utcnow

TTL_S = 2.0
MAX_ENTRIES = 1024


@dataclass(frozen=True)
class Principal:
    """Who is calling, as it was when the token was resolved."""

    id: int
    name: str
    role: str
    display_name: str
    branch_id: str | None
    token_kind: str
    token_expires_at: dt.datetime


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    stamp: Stamp
    resolved_mono: float


class TokenCache:
    def __init__(self, ctx: Any, changes: Changes) -> None:
        self._ctx = ctx
        self._changes = changes
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def cached(self, secret: str, kind: str) -> Principal | None:
        """The remembered principal if still valid; None means: resolve it."""
        key = self._key(secret, kind)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if (entry.stamp != self._changes.stamp("auth") or time.monotonic() - entry.resolved_mono >= TTL_S
                or entry.principal.token_expires_at <= utcnow()):
            with self._lock:
                self._entries.pop(key, None)
            return None
        return entry.principal

    def resolve(self, secret: str, kind: str) -> Principal | None:
        """Look the token up in the database (blocking: call it from a thread)."""
        stamp = self._changes.stamp("auth")  # before the read, so a racing revocation invalidates it
        started = time.monotonic()
        with self._ctx.sessions() as session:
            found = crud_users.resolve_token(session, secret=secret, kind=kind)
            if found is None:
                return None
            user, token = found
            principal = Principal(id=user.id, name=user.name, role=user.role, display_name=user.display_name,
                                  branch_id=user.branch_id, token_kind=token.kind,
                                  token_expires_at=token.expires_at)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()  # many distinct tokens at once is unusual: start over
            self._entries[self._key(secret, kind)] = _Entry(principal, stamp, started)
        return principal

    @staticmethod
    def _key(secret: str, kind: str) -> str:
        return kind + ":" + security.token_digest(secret)


def token_cache_for(ctx: Any) -> TokenCache:
    found = ctx.extras.get("tokencache")
    if found is None:
        found = ctx.extras.setdefault("tokencache", TokenCache(ctx, changes_for(ctx.engine)))
    return found
