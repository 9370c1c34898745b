"""The Content-Security-Policy in a real browser: every page of the admin,
under the policy the server sends, runs its (now external) page scripts and
reports no CSP violation and no script error. Headless Debian chromium."""

from __future__ import annotations

from tests.admin.conftest import PASSWORD
from tests.admin.test_browser import pytestmark  # noqa: F401  (same skip rule)

# page -> a selector whose text only the page's script fills in
PAGES = {
    "/": None,
    "/items": None,
    "/items/new?kind=news": "#f_title",
    "/review": None,
    "/schedule": None,
    "/alerts": "#alert-list:not(:has-text('加载中'))",
    "/devices": "#fleet-summary:has-text('在线')",
    "/meetings": None,
    "/members": None,
    "/reports": "#tours:has-text('完整参观')",
    "/audit": None,
    "/users": None,
}



def test_every_page_runs_under_the_csp(browser, live_admin, news):
    url = live_admin.url
    editor = live_admin.client("editor")
    item = editor.post("/api/items", json={"data": news()}).json()
    meeting = editor.post("/api/items", json={"data": {
        "kind": "meeting", "title": "党课", "meeting_type": "党课", "branch_id": "b1",
        "starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T10:00:00+08:00",
        "expected_members": [], "check_in_devices": []}}).json()
    pages = dict(PAGES)
    pages[f"/items/{item['id']}/edit"] = "#f_title"
    pages[f"/meetings/{meeting['id']}"] = "#rate:has-text('应到')"

    problems: list[str] = []
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    # Failed loads are checked by URL instead (the browser asks for a favicon the admin has not got).
    page.on("response", lambda r: problems.append(f"{r.url}: {r.status}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    page.goto(f"{url}/login")
    page.fill("#name", "guanli")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(f"{url}/")
    for path, filled in pages.items():
        response = page.goto(f"{url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        if filled:
            page.wait_for_selector(filled, timeout=15_000)
    # An injected inline script is blocked by the policy, not run.
    page.goto(f"{url}/")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }""")
    assert page.evaluate("() => window.__injected") is None
    blocked = [p for p in problems if "Content Security Policy" in p]
    problems = [p for p in problems if p not in blocked]
    assert len(blocked) == 1 and "inline script" in blocked[0].lower(), blocked
    assert problems == []
    context.close()
