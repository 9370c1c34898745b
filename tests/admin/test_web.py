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
    from admin.crud import users as crud_users
    from admin.security import login_delay_s

    # The schedule: a few free typos, then doubling waits, capped.
    assert [login_delay_s(n, free=3, cap=60) for n in range(1, 10)] == [0, 0, 2, 4, 8, 16, 32, 60, 60]

    client = TestClient(hall.app)
    codes = [client.post("/login", data={"name": "bianji", "password": "wrong-password"}).status_code
             for _ in range(2)]
    assert codes == [401, 401]
    with hall.ctx.sessions() as session:
        user = crud_users.get_by_name(session, name="bianji")
        assert user.failed_logins == 2 and user.locked_until is None
        user.failed_logins = 7  # as after a run of guesses: the next failure waits the full minute
        session.commit()
    assert client.post("/login", data={"name": "bianji", "password": "wrong-password"}).status_code == 401
    # Now even the right password must wait until the back-off has passed.
    r = client.post("/login", data={"name": "bianji", "password": "correct-horse-battery"}, follow_redirects=False)
    assert r.status_code == 429
    assert "秒后再试" in r.text
    api = client.post("/api/auth/token", json={"name": "bianji", "password": "correct-horse-battery"})
    assert api.status_code == 429 and int(api.headers["retry-after"]) > 30


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
