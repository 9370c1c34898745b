"""A real browser (Debian's headless chromium driven by Playwright): an editor
writes a news item with a picture, a branch reviewer and a committee publisher
approve it, the publisher publishes, and a real endpoint applies it."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.admin.conftest import PASSWORD

pytestmark = pytest.mark.skipif(not shutil.which("chromium") and not shutil.which("/usr/bin/chromium"),
                                reason="Debian's chromium is not installed")


@pytest.fixture
def lobby_endpoint(live_admin, tmp_path, mqtt_broker):
    from content.endpoint import Endpoint, EndpointThread

    settings = mqtt_broker.settings(site_id="test-site", data_dir=tmp_path / "kiosk-data", admin_url=live_admin.url,
                                    public_key=live_admin.ctx.signer.public_key_b64, device_id="kiosk-b1",
                                    groups=["lobby"])
    runner = EndpointThread(Endpoint(settings, kind="kiosk", telemetry_interval=1.0))
    runner.start()
    try:
        yield runner.endpoint
    finally:
        runner.stop()


def signed_in(browser, url: str, name: str):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept("同意发布"))
    page.goto(f"{url}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(f"{url}/")
    return context, page


def test_news_from_editor_to_screen(browser, live_admin, lobby_endpoint, png_bytes, tmp_path):
    url = live_admin.url
    picture = tmp_path / "主题党日.png"
    picture.write_bytes(png_bytes((640, 360), color=(180, 20, 20)))

    # Editor: write the news item with a picture, mark it important, submit it.
    context, page = signed_in(browser, url, "bianji")
    page.goto(f"{url}/items/new?kind=news")
    page.fill("#f_title", "社区党委开展“红色记忆”主题党日")
    page.fill("#f_summary", "重温入党誓词，参观党史展厅")
    page.fill("#f_body", "全体党员重温入党誓词。\n随后参观了党建展厅。")
    page.check("#f_important")
    page.set_input_files('input[data-for="f_images"]', str(picture))
    page.wait_for_selector("#f_images .media-ref img")
    page.click("#save")
    try:
        page.wait_for_url(f"{url}/items/news-*", timeout=15_000)
    except Exception:
        raise AssertionError("save failed: " + page.inner_text("#msg"))
    item_url = page.url
    item_id = item_url.rsplit("/", 1)[1]
    page.click("#submit")
    page.wait_for_function("() => document.getElementById('item-status').textContent.includes('待一级审核')")
    assert page.locator("#approve").count() == 0  # nobody approves their own item
    context.close()

    # Branch reviewer: level 1.
    context, page = signed_in(browser, url, "shenhe")
    page.goto(item_url)
    page.click("#approve")
    page.wait_for_function("() => document.getElementById('item-status').textContent.includes('待二级审核')")
    context.close()

    # Committee publisher: level 2, then publish.
    context, page = signed_in(browser, url, "fabu")
    page.goto(item_url)
    page.click("#approve")
    page.wait_for_function("() => document.getElementById('item-status').textContent.includes('已批准待发布')")
    page.click("#publish")
    page.wait_for_function("() => document.getElementById('item-status').textContent.includes('已发布')")

    # The endpoint fetches, verifies and applies the new manifest, and reports it.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (lobby_endpoint.manifest and lobby_endpoint.manifest.item(item_id)):
        time.sleep(0.2)
    applied = lobby_endpoint.manifest.item(item_id)
    assert applied is not None and applied.title == "社区党委开展“红色记忆”主题党日"
    assert lobby_endpoint.media_path(applied.images[0].sha256) is not None

    # The fleet page shows the device in sync with the new version, live.
    page.goto(f"{url}/devices")
    page.wait_for_selector("#devices a[href='/devices/kiosk-b1']")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#devices tr')].some(r => r.textContent.includes('kiosk-b1')"
        " && r.textContent.includes('已同步'))", timeout=30_000)
    # "What is on the screen now" links to the exact approved version.
    page.goto(f"{url}/devices/kiosk-b1")
    page.wait_for_selector(f"a[href='/items/{item_id}?version=1']")
    page.screenshot(path=str(tmp_path / "devices.png"))
    context.close()


def test_emergency_alert_live_acknowledgements(browser, live_admin, lobby_endpoint):
    url = live_admin.url
    context, page = signed_in(browser, url, "bianji")
    page.goto(f"{url}/alerts")
    page.fill("input[name=title]", "暴雨红色预警：今日闭馆")
    page.fill("textarea[name=body]", "请在场人员有序离开。")
    page.select_option("select[name=groups]", ["lobby"])
    page.click("form[data-api-form] button[type=submit]")
    page.wait_for_selector("text=待一级审核")
    context.close()

    alert_id = live_admin.client("reviewer").get("/api/alerts").json()[0]["id"]
    assert live_admin.client("reviewer").post(f"/api/alerts/{alert_id}/approve", json={}).status_code == 200

    context, page = signed_in(browser, url, "fabu")
    page.goto(f"{url}/alerts")
    page.click(f"button[data-api='POST /api/alerts/{alert_id}/approve']")
    # The page polls: the endpoint shows the alert and its acknowledgement appears live.
    page.wait_for_selector("text=已确认 1 台", timeout=30_000)
    assert "未确认 0 台" in page.inner_text("#alert-list")
    assert lobby_endpoint.alert is not None and lobby_endpoint.alert.title == "暴雨红色预警：今日闭馆"
    page.click(f"button[data-api='POST /api/alerts/{alert_id}/cancel']")
    page.wait_for_selector("text=已撤销", timeout=15_000)
    deadline = time.monotonic() + 15
    while lobby_endpoint.alert is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert lobby_endpoint.alert is None
    context.close()
