"""Serialised list responses, cached until the data under them changes.

The device list and the content list are the admin's most requested pages and
change far less often than they are read. Each response is kept as its JSON
bytes per query, stamped with what it was built from:

* a generation counter per engine and topic ("devices", "items", "auth"),
  bumped after the commit of any session that flushed or bulk-wrote one of the
  topic's tables — an edit in this process is seen by its very next request;
* SQLite's ``PRAGMA data_version``, read on a connection of its own that never
  writes: it changes whenever any other connection, in this process or in
  another worker process on the same file, commits anything. So on SQLite no
  worker serves a list older than the last committed write, whoever wrote it.
  Other databases have no such cheap check: there an entry lives at most
  ``MAX_AGE_S`` (1 s), which bounds how stale a list can be across processes.
  On SQLite the age limit is only a safety net (``SQLITE_MAX_AGE_S``): a
  rebuild every second would stall the requests waiting for it for nothing.

An entry also expires at the deadline its builder gives (the device list: the
moment the first device shown online passes STALE_AFTER), because ``online``
depends on the clock, not only on the data.

The stamp is read before the build starts its transaction, so a write that
commits during a build leaves the entry with an old stamp: it is rebuilt on the
next request, never served as current. Concurrent misses for one query share a
single build.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import Session

from admin.models import utcnow

MAX_AGE_S = 1.0
SQLITE_MAX_AGE_S = 30.0
MAX_ENTRIES = 256
MAX_BODY_BYTES = 1 << 20  # a bigger page is built every time rather than pinned in memory
TOPIC_TABLES = {
    "devices": frozenset({"devices", "device_groups"}),
    "items": frozenset({"items", "item_versions"}),
    "auth": frozenset({"users", "auth_tokens"}),
}
_TABLE_TOPICS: dict[str, set[str]] = {}
for _topic, _tables in TOPIC_TABLES.items():
    for _table in _tables:
        _TABLE_TOPICS.setdefault(_table, set()).add(_topic)
_PENDING = "listcache_topics"  # Session.info key: topics written in the open transaction

# Builds run here, not on the request's own thread: a client that disconnects
# mid-build cancels only its wait, and the requests sharing the build still get it.
_BUILDERS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="listcache")

Stamp = tuple[int, int]


class Changes:
    """Generation counters per topic plus the SQLite data version of one engine;
    ``stamp(topic)`` differs from an earlier stamp whenever the topic may have
    changed since."""

    def __init__(self, engine: Engine) -> None:
        self._generations = dict.fromkeys(TOPIC_TABLES, 0)
        self._lock = threading.Lock()
        url = engine.url
        database = url.database or ""
        self._path = database if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") else None
        self._conn: sqlite3.Connection | None = None
        event.listen(engine, "engine_disposed", self.close)

    @property
    def cross_process(self) -> bool:
        return self._path is not None

    def stamp(self, topic: str) -> Stamp:
        return self._generations[topic], self._data_version()

    def bump(self, *topics: str) -> None:
        with self._lock:
            for topic in topics:
                self._generations[topic] += 1

    def close(self, *_: Any) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _data_version(self) -> int:
        if self._path is None:
            return 0
        with self._lock:
            if self._conn is None:
                # Autocommit: each PRAGMA sees the newest commit, never a held snapshot.
                self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            return self._conn.execute("PRAGMA data_version").fetchone()[0]


# One tracker per engine, kept with the engine (weakly, so a disposed test
# admin leaves nothing behind). The session listeners below are registered at
# import, before any route runs, so no write can slip past them unnoticed.
_TRACKERS: weakref.WeakKeyDictionary[Engine, Changes] = weakref.WeakKeyDictionary()
_SETUP_LOCK = threading.Lock()


def changes_for(engine: Engine) -> Changes:
    found = _TRACKERS.get(engine)
    if found is None:
        with _SETUP_LOCK:
            found = _TRACKERS.get(engine)
            if found is None:
                found = _TRACKERS[engine] = Changes(engine)
    return found


def _mark(session: Session, topics: set[str] | frozenset[str]) -> None:
    session.info.setdefault(_PENDING, set()).update(topics)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context: Any) -> None:
    # In after_flush, new/dirty/deleted still list what this flush wrote.
    topics: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        topics.update(_TABLE_TOPICS.get(getattr(obj, "__tablename__", None), ()))
    if topics:
        _mark(session, topics)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: Any) -> None:
    # Bulk UPDATE/DELETE/INSERT statements never pass through the flush.
    if state.is_select:
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name is None:
        _mark(state.session, frozenset(TOPIC_TABLES))  # raw SQL: assume it touched anything
    elif name in _TABLE_TOPICS:
        _mark(state.session, _TABLE_TOPICS[name])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop(_PENDING, None)
    if not topics:
        return
    try:
        bind = session.get_bind()
    except UnboundExecutionError:
        return  # a session bound per mapper: not one of the admin's (data_version still sees it)
    engine = getattr(bind, "engine", None)  # the engine itself, or a bound connection's engine
    if isinstance(engine, Engine):
        changes_for(engine).bump(*topics)


@dataclass(frozen=True)
class Built:
    """What a builder returns: the JSON body and, optionally, a wall-clock (naive
    UTC) moment after which it is wrong even if no data changed."""

    body: bytes
    valid_until: dt.datetime | None = None


@dataclass(frozen=True)
class Entry:
    body: bytes
    etag: str
    stamp: Stamp
    built_mono: float
    valid_until: dt.datetime | None

    def fresh(self, stamp: Stamp, now_mono: float, max_age_s: float) -> bool:
        return (stamp == self.stamp and now_mono - self.built_mono < max_age_s
                and (self.valid_until is None or utcnow() < self.valid_until))


def etag_of(body: bytes) -> str:
    # From the content, so every worker process gives the same page the same tag.
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


class ResponseCache:
    """JSON bodies per key (LRU, bounded), each valid for one stamp of its topic."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.max_age_s = SQLITE_MAX_AGE_S if changes.cross_process else MAX_AGE_S
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._building: dict[tuple, concurrent.futures.Future[Entry]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    async def get(self, topic: str, key: tuple, build: Callable[[], Built]) -> Entry:
        stamp = self.changes.stamp(topic)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.fresh(stamp, now, self.max_age_s):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
            self.misses += 1
            future = self._building.get((key, stamp))
            if future is None:
                future = _BUILDERS.submit(self._build, key, stamp, build)
                self._building[(key, stamp)] = future
        # shield: a cancelled request must not cancel the build others wait for.
        return await asyncio.shield(asyncio.wrap_future(future))

    def _build(self, key: tuple, stamp: Stamp, build: Callable[[], Built]) -> Entry:
        started = time.monotonic()
        try:
            built = build()
            entry = Entry(body=built.body, etag=etag_of(built.body), stamp=stamp, built_mono=started,
                          valid_until=built.valid_until)
            if len(entry.body) <= MAX_BODY_BYTES:
                with self._lock:
                    current = self._entries.get(key)
                    # Never replace a newer build with an older one finishing late.
                    if current is None or current.built_mono <= started:
                        self._entries[key] = entry
                        self._entries.move_to_end(key)
                        while len(self._entries) > MAX_ENTRIES:
                            self._entries.popitem(last=False)
            return entry
        finally:
            with self._lock:
                self._building.pop((key, stamp), None)


def cache_for(ctx: Any) -> ResponseCache:
    """The admin context's response cache, created on first use (one per
    context, so several admins in one process stay apart)."""
    found = ctx.extras.get("listcache")
    if found is None:
        with _SETUP_LOCK:
            found = ctx.extras.get("listcache")
            if found is None:
                found = ctx.extras["listcache"] = ResponseCache(changes_for(ctx.engine))
    return found


def json_response(request: Any, entry: Entry) -> Any:
    """200 with the cached body, or 304 when the client already holds it.
    Cache-Control is left to the security headers (no-store for the API): the
    ETag serves clients that revalidate on their own, such as polling scripts."""
    from starlette.responses import Response

    headers = {"ETag": entry.etag}
    if _matches(request.headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False
