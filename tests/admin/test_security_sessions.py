"""Admin sessions through the real app: fixation, logout and password change
revoke server-side, CSRF and cross-site posts, login limits per account and
per client address, and the security headers on every kind of response."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from admin.deps import SESSION_COOKIE

PASSWORD = "correct-horse-battery"


def web_login(client: TestClient, name: str = "bianji", password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password, "next": "/"}, follow_redirects=False)


def signed_in(app, name: str = "bianji") -> tuple[TestClient, str]:
    client = TestClient(app)
    assert web_login(client, name).status_code == 303
    csrf = re.search(r'name="csrf" content="([^"]+)"', client.get("/").text).group(1)
    return client, csrf


def as_cookie(app, cookie: str) -> TestClient:
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


def test_login_never_keeps_the_session_id_it_was_given(hall):
    # An attacker's own valid session, planted in the victim's browser before login.
    planted, _ = signed_in(hall.app, "bianji2")
    planted_id = planted.cookies.get(SESSION_COOKIE)
    victim = TestClient(hall.app)
    victim.cookies.set(SESSION_COOKIE, planted_id)
    assert victim.get("/api/auth/me").json()["name"] == "bianji2"
    response = web_login(victim, "bianji")
    assert response.status_code == 303
    fresh = response.cookies.get(SESSION_COOKIE)
    assert fresh and fresh != planted_id
    assert as_cookie(hall.app, fresh).get("/api/auth/me").json()["name"] == "bianji"
    assert as_cookie(hall.app, planted_id).get("/api/auth/me").status_code == 401
    # A made-up id is never adopted either.
    made_up = TestClient(hall.app)
    made_up.cookies.set(SESSION_COOKIE, "attacker-chosen-session-id")
    assert web_login(made_up).cookies.get(SESSION_COOKIE) != "attacker-chosen-session-id"


def test_every_login_issues_a_new_token(hall):
    ids = {web_login(TestClient(hall.app)).cookies.get(SESSION_COOKIE) for _ in range(3)}
    tokens = {hall.anon.post("/api/auth/token", json={"name": "bianji", "password": PASSWORD}).json()["access_token"]
              for _ in range(3)}
    assert len(ids) == 3 and len(tokens) == 3 and not ids & tokens


def test_logout_revokes_on_the_server(hall):
    client, csrf = signed_in(hall.app)
    cookie = client.cookies.get(SESSION_COOKIE)
    # A logout without the form's CSRF token (a cross-site logout) leaves the session alive.
    TestClient(hall.app, cookies={SESSION_COOKIE: cookie}).post("/logout", data={}, follow_redirects=False)
    assert as_cookie(hall.app, cookie).get("/api/auth/me").status_code == 200
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert as_cookie(hall.app, cookie).get("/api/auth/me").status_code == 401

    token = hall.anon.post("/api/auth/token", json={"name": "bianji", "password": PASSWORD}).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert hall.anon.get("/api/auth/me", headers=bearer).status_code == 200
    assert hall.anon.post("/api/auth/logout", headers=bearer).status_code == 204
    assert hall.anon.get("/api/auth/me", headers=bearer).status_code == 401


def test_password_change_revokes_every_session_and_token_of_that_user(hall):
    first, _ = signed_in(hall.app, "bianji2")
    second, _ = signed_in(hall.app, "bianji2")
    token = hall.anon.post("/api/auth/token", json={"name": "bianji2", "password": PASSWORD}).json()["access_token"]
    others, _ = signed_in(hall.app, "bianji")  # another user's session is not touched
    users = {u["name"]: u["id"] for u in hall["admin"].get("/api/users").json()}
    changed = hall["admin"].patch(f"/api/users/{users['bianji2']}", json={"password": "a-new-long-password"})
    assert changed.status_code == 200
    for client in (first, second):
        assert client.get("/api/auth/me").status_code == 401
    assert hall.anon.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert others.get("/api/auth/me").status_code == 200
    assert web_login(TestClient(hall.app), "bianji2", "a-new-long-password").status_code == 303


def test_csrf_refuses_forms_and_foreign_tokens_but_not_bearer(hall, news):
    client, csrf = signed_in(hall.app)
    other, other_csrf = signed_in(hall.app, "bianji2")
    # A classic cross-site form post: form-encoded body, cookie attached, no header.
    form = client.post("/api/members", data={"id": "x1", "name": "甲", "member_no": "1"})
    assert form.status_code == 403 and "CSRF" in form.json()["detail"]
    # A real token, but of another session.
    assert client.post("/api/items", json={"data": news()}, headers={"X-CSRF-Token": other_csrf}).status_code == 403
    assert client.post("/api/items", json={"data": news()}, headers={"X-CSRF-Token": ""}).status_code == 403
    assert client.delete("/api/members/nobody", headers={"X-CSRF-Token": "x" * len(csrf)}).status_code == 403
    assert client.post("/api/items", json={"data": news()}, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert other.post("/api/items", json={"data": news()}, headers={"X-CSRF-Token": other_csrf}).status_code == 201
    # API clients: a bearer token needs no CSRF token (browsers never attach it by themselves).
    assert hall["editor"].post("/api/items", json={"data": news()}).status_code == 201


def test_cross_site_origin_is_refused_even_for_the_login_form(hall, news):
    client, csrf = signed_in(hall.app)
    evil = {"Origin": "http://evil.example", "X-CSRF-Token": csrf}
    assert client.post("/api/items", json={"data": news()}, headers=evil).status_code == 403
    # Login CSRF: a foreign page posting the attacker's credentials into the victim's browser.
    login = TestClient(hall.app).post("/login", data={"name": "bianji", "password": PASSWORD},
                                      headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert login.status_code == 403 and SESSION_COOKIE not in login.cookies
    assert TestClient(hall.app).post("/login", data={"name": "bianji", "password": PASSWORD},
                                     headers={"Origin": "null"}, follow_redirects=False).status_code == 403
    same = client.post("/api/items", json={"data": news()},
                       headers={"Origin": "http://testserver", "X-CSRF-Token": csrf})
    assert same.status_code == 201


def test_back_off_does_not_tell_which_accounts_exist(hall):
    client = TestClient(hall.app)
    for name in ("bianji", "no-such-user"):  # login_free_failures=3 in the tests
        codes = [client.post("/api/auth/token", json={"name": name, "password": "wrong-password"}).status_code
                 for _ in range(4)]
        assert codes == [401, 401, 401, 429], name
        page = client.post("/login", data={"name": name, "password": "wrong-password"})
        assert page.status_code == 429 and "秒后再试" in page.text, name


def test_failed_logins_are_limited_per_client_address(tmp_path, template_dir, make_settings):
    import shutil

    from admin.app import build_context, create_app

    shutil.copytree(template_dir[0] / "data", tmp_path / "data")
    settings = make_settings(tmp_path, login_ip_failures_per_window=5, login_ip_window_s=600)
    ctx = build_context(settings)
    app = create_app(ctx=ctx)
    sprayer = TestClient(app)  # every TestClient request comes from the address "testclient"
    # One guess per account: the per-account back-off never triggers.
    names = ["bianji", "shenhe", "fabu", "guanli", "shenji"]
    codes = [sprayer.post("/login", data={"name": n, "password": "Summer2026!"}).status_code for n in names]
    assert codes == [401] * 5
    blocked = sprayer.post("/api/auth/token", json={"name": "bianji2", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 500
    page = sprayer.post("/login", data={"name": "bianji2", "password": PASSWORD}, follow_redirects=False)
    assert page.status_code == 429 and "秒后再试" in page.text
    # Other addresses are not affected.
    elsewhere = TestClient(app, client=("10.0.0.7", 50000))
    assert elsewhere.post("/api/auth/token", json={"name": "bianji2", "password": PASSWORD}).status_code == 200
    ctx.engine.dispose()


def test_security_headers_on_every_kind_of_response(hall, png_bytes):
    up = hall["editor"].post("/api/media", files={"file": ("a.png", png_bytes(), "image/png")}).json()
    client, _ = signed_in(hall.app)
    responses = {
        "html": client.get("/"),
        "login": hall.anon.get("/login"),
        "api": hall["editor"].get("/api/auth/me"),
        "list": hall["editor"].get("/api/items"),
        "401": hall.anon.get("/api/items"),
        "404": hall["editor"].get("/api/items/nope"),
        "static": hall.anon.get("/static/app.js"),
        "media": hall["editor"].get(f"/media/{up['sha256']}"),
    }
    for name, r in responses.items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["x-frame-options"] == "DENY", name
        assert r.headers["referrer-policy"] == "same-origin", name
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, name
        assert "unsafe-inline" not in csp.split("script-src", 1)[-1].split(";")[0], name
        assert "strict-transport-security" not in r.headers, name  # plain HTTP here
    assert "script-src 'self'" in responses["html"].headers["content-security-policy"]
    for name in ("html", "login", "api", "401", "404"):
        assert responses[name].headers["cache-control"] == "no-store", name
    assert responses["list"].headers["cache-control"] == "no-store"  # the cached lists too (ETag still works)
    # Content-addressed media keep their long immutable caching.
    media_cache = responses["media"].headers["cache-control"]
    assert "immutable" in media_cache and "max-age=" in media_cache and "no-store" not in media_cache
    assert "sandbox" in responses["media"].headers["content-security-policy"]
    assert "no-store" not in responses["static"].headers.get("cache-control", "")


def test_pages_carry_no_inline_script(hall):
    client, _ = signed_in(hall.app, "guanli")
    from tests.admin.test_web import PAGES

    for path in PAGES:
        html = client.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+=", html), path
