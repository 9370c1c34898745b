"""Web UI: login with cookie session, CSRF, back-off, every page renders in Chinese."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from admin.deps import SESSION_COOKIE

PAGES = ["/", "/items", "/items/new?kind=news", "/items/new?kind=quiz", "/review", "/schedule", "/alerts", "/devices",
         "/meetings", "/members", "/reports", "/audit", "/users"]


def login(app, name: str, password: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    r = client.post("/login", data={"name": name, "password": password, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/")
    csrf = re.search(r'name="csrf" content="([^"]+)"', page.text).group(1)
    return client, csrf



def test_pages_render_after_login(hall):
    client, _ = login(hall.app, "guanli", "correct-horse-battery")
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, path
        assert "党建展厅" in r.text, path


def test_anonymous_is_sent_to_login(hall):
    r = hall.anon.get("/items", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_cookie_session_needs_csrf_token_for_writes(hall, news):
    client, csrf = login(hall.app, "bianji", "correct-horse-battery")
    refused = client.post("/api/items", json={"data": news()})
    assert refused.status_code == 403
    wrong = client.post("/api/items", json={"data": news()}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    ok = client.post("/api/items", json={"data": news()}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


def test_repeated_failed_logins_back_off(hall):
    client = TestClient(hall.app)
    codes = [client.post("/login", data={"name": "bianji", "password": "wrong-password"}).status_code
             for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
    # Even the right password waits until the back-off has passed.
    r = client.post("/login", data={"name": "bianji", "password": "correct-horse-battery"}, follow_redirects=False)
    assert r.status_code == 429
    assert "秒后再试" in r.text


def test_login_redirect_stays_on_site(hall):
    client = TestClient(hall.app)
    r = client.post("/login", data={"name": "guanli", "password": "correct-horse-battery",
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_logout_revokes_session(hall):
    client, csrf = login(hall.app, "guanli", "correct-horse-battery")
    cookie = client.cookies.get(SESSION_COOKIE)
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    again = TestClient(hall.app)
    again.cookies.set(SESSION_COOKIE, cookie)
    assert again.get("/api/auth/me").status_code == 401
