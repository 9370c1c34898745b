"""Admin fixtures: an admin app on a fresh data directory, users of every role
and API clients logged in as each of them."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct-horse-battery"
# Debian's chromium, never a browser download; flags that keep it off the (closed) network.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ROLE_USERS = {"editor": "bianji", "editor2": "bianji2", "reviewer": "shenhe", "reviewer2": "shenhe2",
              "publisher": "fabu", "publisher2": "fabu2", "admin": "guanli", "auditor": "shenji"}


def admin_settings(tmp_path, **overrides):
    from admin.settings import AdminSettings

    values = dict(data_dir=tmp_path / "data", mqtt_enabled=False, site_id="test-site",
                  admin_url="http://testserver", login_free_failures=3, login_max_delay_s=60)
    values.update(overrides)
    return AdminSettings(_env_file=None, **values)


@dataclass
class Hall:
    app: object
    ctx: object
    anon: TestClient
    clients: dict[str, TestClient]

    def __getitem__(self, role: str) -> TestClient:
        return self.clients[role]


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory):
    """One data directory with the schema, a signing key and a user of every role
    (with API tokens), built once: argon2 hashing is deliberately slow, so each
    test copies this directory instead of hashing again."""
    from admin.app import build_context
    from admin.crud import users as crud_users

    root = tmp_path_factory.mktemp("admin-template")
    settings = admin_settings(root)
    ctx = build_context(settings)
    from admin.models import User
    from admin.security import hash_password

    tokens = {}
    shared_hash = hash_password(PASSWORD)  # one hash for all: each costs a second on a busy CPU
    with ctx.sessions() as session:
        for role, name in ROLE_USERS.items():
            user = User(name=name, role=role.rstrip("2"), display_name=name, password_hash=shared_hash)
            session.add(user)
            session.flush()
            tokens[role], _ = crud_users.issue_token(session, user=user, kind="api", max_age_s=3600)
        session.commit()
    ctx.engine.dispose()
    return root, tokens


@pytest.fixture
def settings(tmp_path, template_dir):
    import shutil

    root, _ = template_dir
    shutil.copytree(root / "data", tmp_path / "data")
    return admin_settings(tmp_path)


@pytest.fixture
def hall(settings, template_dir) -> Iterator[Hall]:
    from admin.app import build_context, create_app

    ctx = build_context(settings)
    app = create_app(ctx=ctx)
    anon = TestClient(app)
    clients = {}
    for role, token in template_dir[1].items():
        client = TestClient(app)
        client.headers["Authorization"] = f"Bearer {token}"
        clients[role] = client
    yield Hall(app=app, ctx=ctx, anon=anon, clients=clients)
    ctx.engine.dispose()


@pytest.fixture
def browser():
    """A headless Debian chromium for one test (Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def png_bytes(size=(64, 48), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def news(title: str = "党支部开展主题党日活动", **extra) -> dict:
    return {"kind": "news", "title": title, "summary": "摘要", "body": "正文内容", **extra}


@pytest.fixture(name="png_bytes")
def _png_bytes_fixture():
    return png_bytes


@pytest.fixture(name="news")
def _news_fixture():
    return news


class LiveAdmin:
    """The admin served by a real uvicorn on a loopback port, in a thread, with
    its MQTT bridge connected to the test broker."""

    def __init__(self, settings, template_tokens) -> None:
        import threading

        import uvicorn

        from admin.app import build_context, create_app

        self.ctx = build_context(settings)
        self.app = create_app(ctx=self.ctx)
        self.tokens = template_tokens
        self.url = settings.admin_url
        port = int(self.url.rsplit(":", 1)[1])
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "LiveAdmin":
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.server.started:
            raise TimeoutError("admin did not start")
        return self

    def client(self, role: str):
        import httpx

        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[role]}"}, timeout=10)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.ctx.engine.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_admin(tmp_path, template_dir, mqtt_broker):
    import shutil

    root, tokens = template_dir
    shutil.copytree(root / "data", tmp_path / "data")
    settings = admin_settings(tmp_path, mqtt_enabled=True, mqtt_host=mqtt_broker.host, mqtt_port=mqtt_broker.port,
                              admin_url=f"http://127.0.0.1:{_free_port()}")
    admin = LiveAdmin(settings, tokens).start()
    try:
        yield admin
    finally:
        admin.stop()


@pytest.fixture(name="make_settings")
def _make_settings_fixture():
    return admin_settings


def server_errors(app, token: str, *, skip=lambda operation: False) -> tuple[int, list[tuple]]:
    """Run schemathesis against every operation of ``app`` not skipped, signed in
    with ``token``; return how many operations ran and the requests that got a
    5xx. Few examples each keep it short; derandomized so a failure reproduces."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[tuple] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if skip(operation):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def check(case):
            response = case.call(headers={"Authorization": token})
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, response.status_code, response.text[:200]))

        check()
        checked += 1
    return checked, failures
