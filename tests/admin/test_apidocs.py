"""/docs works offline: Swagger UI from local files, under the admin's CSP,
showing the admin's own operations; nothing is fetched from another host."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.admin.test_browser import pytestmark  # noqa: F401  (same skip rule)


def test_api_docs_render_from_local_files_only(live_admin, browser):
    admin_host = urlsplit(live_admin.url).netloc
    requested: list[str] = []
    problems: list[str] = []
    page = browser.new_page()
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    response = page.goto(f"{live_admin.url}/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    # Swagger UI drew the operations of the admin's schema.
    page.wait_for_selector("text=设备实时列表", timeout=30_000)
    assert page.locator(".opblock").count() > 20
    foreign = [u for u in requested if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != admin_host]
    assert foreign == []
    assert problems == []


def test_redoc_is_not_served_from_a_cdn(hall):
    assert hall.anon.get("/redoc").status_code == 404
    page = hall.anon.get("/docs")
    assert page.status_code == 200 and "cdn" not in page.text.lower()
    assert hall.anon.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
