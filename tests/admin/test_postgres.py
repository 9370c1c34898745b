"""The admin on PostgreSQL: Debian's server started for this module on a
loopback port, the Alembic migrations, the append-only audit trigger's
PostgreSQL variant, and the review-and-publish flow through the API.

The server is a throwaway cluster in a temporary directory (initdb, pg_ctl),
run as the ``postgres`` system user when the tests run as root, because
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.admin.conftest import admin_settings, news

psycopg = pytest.importorskip("psycopg", reason="psycopg is installed by `make test` (test extra)")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server not installed (Debian package postgresql; `make test` installs it as root)")
    # Not under pytest's tmp dir: it is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="hall-pg-"))
    root.chmod(0o755)
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pg = pwd.getpwnam("postgres")
        os.chown(root, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)  # noqa: E731
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "hall", "-A", "trust", "-E", "UTF8", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l", str(root / "log"), "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        with psycopg.connect(f"host=127.0.0.1 port={port} user=hall dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE hall")
        yield f"postgresql+psycopg://hall@127.0.0.1:{port}/hall"
    finally:
        if data.exists():
            subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_migrations_on_postgres_match_the_models_and_audit_is_append_only(postgres_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from admin.db import make_engine, migrate
    from admin.models import Base

    engine = make_engine(postgres_url)
    try:
        migrate(engine)
        migrate(engine)  # every start runs it
        with engine.connect() as conn:
            assert conn.dialect.name == "postgresql"
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_log (at, user_name, action, target, detail) "
                              "VALUES (now(), 'pg-test', 'probe', 'x', '')"))
        for statement in ("UPDATE audit_log SET detail = 'changed'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only|audit"):
                with engine.begin() as conn:
                    conn.execute(text(statement))
    finally:
        engine.dispose()


def test_review_and_publish_flow_on_postgres(postgres_url, tmp_path):
    from admin.app import build_context, create_app
    from admin.crud import users as crud_users
    from admin.models import User
    from admin.security import hash_password

    settings = admin_settings(tmp_path, database_url=postgres_url)
    ctx = build_context(settings)
    try:
        tokens = {}
        password_hash = hash_password("correct-horse-battery")
        with ctx.sessions() as session:
            for role, name in (("editor", "pg-editor"), ("reviewer", "pg-reviewer"), ("publisher", "pg-fabu"),
                               ("publisher2", "pg-fabu2"), ("auditor", "pg-audit")):
                user = User(name=name, role=role.rstrip("2"), display_name=name, password_hash=password_hash)
                session.add(user)
                session.flush()
                tokens[role], _ = crud_users.issue_token(session, user=user, kind="api", max_age_s=3600)
            session.commit()
        app = create_app(ctx=ctx)
        client = {role: TestClient(app, headers={"Authorization": f"Bearer {token}"}) for role, token in tokens.items()}

        created = client["editor"].post("/api/items", json={"data": news("支部书记讲党课", important=True)})
        assert created.status_code == 201, created.text
        item = created.json()["id"]
        assert client["editor"].post(f"/api/items/{item}/submit").json()["status"] == "submitted"
        assert client["publisher"].post(f"/api/items/{item}/approve", json={}).json()["status"] == "approved_l1"
        assert client["publisher2"].post(f"/api/items/{item}/approve", json={}).json()["status"] == "approved"
        assert client["publisher"].post(f"/api/items/{item}/publish").status_code == 200
        assert client["editor"].get(f"/api/items/{item}").json()["status"] == "published"

        # A stale edit is refused with the newer version, as on SQLite.
        head = client["editor"].get(f"/api/items/{item}").json()["head"]
        edited = client["editor"].put(f"/api/items/{item}", json={"data": news("支部书记讲党课（修订）"),
                                                                   "base_version": head["number"]})
        assert edited.status_code == 200, edited.text
        stale = client["editor"].put(f"/api/items/{item}", json={"data": news("过期的修改"),
                                                                  "base_version": head["number"]})
        assert stale.status_code == 409

        log = client["auditor"].get("/api/audit").json()
        entries = log["entries"] if isinstance(log, dict) else log
        actions = [e["action"] for e in entries if e.get("target") == item]
        for action in ("create", "submit", "approve", "publish"):
            assert any(action in a for a in actions), (action, actions)
    finally:
        ctx.engine.dispose()
