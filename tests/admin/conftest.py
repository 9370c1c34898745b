"""Admin fixtures: an admin app on a fresh data directory, users of every role
and API clients logged in as each of them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct-horse-battery"
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


@pytest.fixture
def settings(tmp_path):
    return admin_settings(tmp_path)


@pytest.fixture
def hall(settings) -> Iterator[Hall]:
    from admin.app import build_context, create_app
    from admin.crud import users as crud_users

    ctx = build_context(settings)
    with ctx.sessions() as session:
        for role, name in ROLE_USERS.items():
            crud_users.create(session, name=name, role=role.rstrip("2"), password=PASSWORD)
        session.commit()
    app = create_app(ctx=ctx)
    anon = TestClient(app)
    clients = {}
    for role, name in ROLE_USERS.items():
        client = TestClient(app)
        token = client.post("/api/auth/token", json={"name": name, "password": PASSWORD}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        clients[role] = client
    yield Hall(app=app, ctx=ctx, anon=anon, clients=clients)
    ctx.engine.dispose()


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
