"""The face-enrolment pages in a real browser (Debian's headless chromium via
Playwright) against a real admin on a loopback port, the real dlib pipeline, a
real encrypted vault and real photos: an editor enrols a member from the
members list and deletes the data again; consent, roles and an unconfigured
vault are explained on the page; no CSP violation and no script error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.admin.conftest import PASSWORD
from tests.admin.test_browser import pytestmark  # noqa: F401  (same skip rule)
from tests.robot.face_fixtures import face_photos, face_pipeline  # noqa: F401  (fixtures)



def install_faces(admin, *, keyed: bool, pipeline=None):
    from admin.faces import FaceServices
    from robot.face.config import FaceConfig
    from robot.face.crypto import generate_key

    config = FaceConfig(_env_file=None, vault_dir=Path(admin.ctx.settings.data_dir) / "admin" / "face-vault",
                        vault_key=generate_key() if keyed else None, keep_photos=False)
    services = FaceServices(config, pipeline=pipeline)
    admin.ctx.extras["faces"] = services
    return services


@pytest.fixture
def faces_admin(live_admin, face_pipeline):
    services = install_faces(live_admin, keyed=True, pipeline=face_pipeline)
    try:
        yield live_admin
    finally:
        services.close()


def add_member(admin, member_id: str, name: str, no: str, *, consent: bool) -> None:
    with admin.client("editor") as client:
        response = client.post("/api/members", json={"id": member_id, "name": name, "member_no": no,
                                                     "branch_id": "b1", "consent_face": consent})
    assert response.status_code == 201, response.text


class Watched:
    """A signed-in page that records console errors, page errors and failed loads."""

    def __init__(self, browser, url: str, name: str, *, viewport=(1366, 768)) -> None:
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
        page = self.page = self.context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("console", lambda msg: self.problems.append(f"{page.url}: {msg.text}")
                if msg.type == "error" and "Failed to load resource" not in msg.text else None)
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: {exc}"))
        self.expected_failures: set[int] = set()
        page.on("response", lambda r: self.problems.append(f"{r.url}: {r.status}")
                if r.status >= 400 and r.status not in self.expected_failures and not r.url.endswith("/favicon.ico")
                else None)
        page.goto(f"{url}/login")
        page.fill("#name", name)
        page.fill("#password", PASSWORD)
        page.click("#login-button")
        page.wait_for_url(f"{url}/")

    def close(self) -> list[str]:
        self.context.close()
        return self.problems


def row(page, member_id: str):
    return page.locator(f"#members tr[data-member='{member_id}']")


def test_editor_enrols_and_deletes_a_face(browser, faces_admin, face_photos, tmp_path):
    url = faces_admin.url
    add_member(faces_admin, "m-a", "张三", "0001", consent=True)
    add_member(faces_admin, "m-x", "赵六", "0009", consent=False)
    vault = faces_admin.ctx.extras["faces"].get_vault()
    watched = Watched(browser, url, "bianji")
    page = watched.page

    page.goto(f"{url}/members")
    assert "未录入" in row(page, "m-a").inner_text()
    assert row(page, "m-x").locator(".face-enrol").count() == 0       # no consent, no enrol button
    assert row(page, "m-x").locator(".face-delete").count() == 0
    row(page, "m-a").locator(".face-enrol").click()
    page.wait_for_url(f"{url}/members/m-a/face")

    page.set_input_files("#face-files", str(face_photos["obama"]))
    page.wait_for_selector("#face-thumbs .face-thumb img")
    assert "已选 1 / 5 张" in page.inner_text("#face-count")
    page.click("#face-upload")
    page.wait_for_selector("#face-results:not([hidden])", timeout=60_000)
    results = page.inner_text("#face-result-table")
    assert "obama.jpg" in results and "已采用" in results and "1 张" in results
    assert "已录入" in page.inner_text("#face-status") and "1 条特征" in page.inner_text("#face-status")
    assert page.locator("#face-error").is_hidden()
    assert vault.member("m-a").embeddings == 1
    page.screenshot(path=str(tmp_path / "face-enrolled.png"), full_page=True)

    # The list shows the enrolment; deleting it (confirmed) removes it from the vault and withdraws consent.
    page.goto(f"{url}/members")
    assert "已录入（1 条特征）" in row(page, "m-a").inner_text()
    page.screenshot(path=str(tmp_path / "members.png"), full_page=True)
    row(page, "m-a").locator(".face-delete").click()
    page.wait_for_function("() => document.querySelector(\"#members tr[data-member='m-a']\")"
                           " && !document.querySelector(\"#members tr[data-member='m-a'] .face-delete\")")
    cells = row(page, "m-a").inner_text()
    assert "未录入" in cells and "已录入" not in cells and "未同意" in cells
    assert row(page, "m-a").locator(".face-enrol").count() == 0
    assert vault.member("m-a") is None

    # The page of a member without consent offers no upload at all.
    page.goto(f"{url}/members/m-x/face")
    assert page.locator("#no-consent").is_visible() and page.locator("#face-form").count() == 0
    assert watched.close() == []


def test_refusals_are_explained_on_the_page(browser, faces_admin, face_photos, tmp_path):
    url = faces_admin.url
    add_member(faces_admin, "m-b", "李四", "0002", consent=True)
    watched = Watched(browser, url, "bianji", viewport=(768, 1024))  # a tablet held upright
    watched.expected_failures = {409, 415, 422}
    page = watched.page
    page.goto(f"{url}/members")
    assert row(page, "m-b").locator(".face-enrol").is_visible()
    page.screenshot(path=str(tmp_path / "members-tablet.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    page.goto(f"{url}/members/m-b/face")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    # Two photos at once: two embeddings. Deleting on this page, keeping consent, leaves the form in place.
    page.set_input_files("#face-files", [str(face_photos["obama2"]), str(face_photos["obama3"])])
    page.click("#face-upload")
    page.wait_for_selector("#face-results:not([hidden])", timeout=60_000)
    assert "2 条特征" in page.inner_text("#face-status")
    assert faces_admin.ctx.extras["faces"].get_vault().member("m-b").embeddings == 2
    page.uncheck("#face-withdraw")
    page.click("#face-delete")
    page.wait_for_function("() => document.getElementById('face-delete-card').hidden"
                           " && document.getElementById('face-status').textContent.includes('未录入')")
    assert page.inner_text("#consent-state") == "本人已同意" and page.locator("#face-form").is_visible()
    assert faces_admin.ctx.extras["faces"].get_vault().member("m-b") is None

    # A photo without a face: the API's 422 and the reason for that photo.
    blank = tmp_path / "空白.png"
    from PIL import Image

    Image.new("RGB", (400, 300), (180, 180, 180)).save(blank)
    page.set_input_files("#face-files", str(blank))
    page.click("#face-upload")
    page.wait_for_selector("#face-error:not([hidden])")
    assert "没有可用的照片" in page.inner_text("#face-error")
    results = page.inner_text("#face-result-table")
    assert "空白.png" in results and "未采用" in results and "没有检测到人脸" in results
    page.click("#face-thumbs button")

    # Bytes that are not an image, though named like one: the API's 415, in words.
    fake = tmp_path / "假照片.jpg"
    fake.write_bytes(b"<html>not a photo</html>")
    page.set_input_files("#face-files", str(fake))
    page.click("#face-upload")
    page.wait_for_selector("#face-error:not([hidden])")
    assert "照片格式不支持" in page.inner_text("#face-error")

    # Consent withdrawn while the page was open: the upload is refused by the API and the reason shown.
    add_member(faces_admin, "m-b", "李四", "0002", consent=False)
    page.click("#face-thumbs button")  # remove the fake one
    page.set_input_files("#face-camera", str(face_photos["biden"]))
    page.click("#face-upload")
    page.wait_for_function("() => document.getElementById('face-error').textContent.includes('未记录本人同意')")
    assert page.inner_text("#consent-state") == "未记录同意"
    assert faces_admin.ctx.extras["faces"].get_vault().member("m-b") is None
    page.screenshot(path=str(tmp_path / "face-refused.png"), full_page=True)
    assert watched.close() == []

    # A reviewer may not enrol: no roster (personal data), no face buttons, no form on the page.
    watched = Watched(browser, url, "shenhe")
    page = watched.page
    page.goto(f"{url}/members")
    assert page.locator(".face-enrol, .face-delete, #members").count() == 0
    assert page.locator("#roster-hidden").is_visible() and "李四" not in page.inner_text("main")
    page.goto(f"{url}/members/m-b/face")
    assert "没有权限" in page.inner_text("main") and "李四" not in page.inner_text("main")
    assert page.locator("#face-form, #face-delete, #face-status").count() == 0
    assert watched.close() == []


def test_unconfigured_vault_tells_the_operator_what_to_set(browser, live_admin, face_photos, tmp_path):
    services = install_faces(live_admin, keyed=False)
    url = live_admin.url
    add_member(live_admin, "m-c", "王五", "0003", consent=True)
    watched = Watched(browser, url, "guanli")
    watched.expected_failures = {503}
    page = watched.page
    page.goto(f"{url}/members")
    assert "HALL_FACE_VAULT_KEY_FILE" in page.inner_text("#face-problem")
    page.goto(f"{url}/members/m-c/face")
    assert "HALL_FACE_VAULT_KEY_FILE" in page.inner_text("#face-problem")
    page.set_input_files("#face-files", str(face_photos["obama"]))
    page.click("#face-upload")
    page.wait_for_selector("#face-error:not([hidden])")
    error = page.inner_text("#face-error")
    assert "人脸库未配置" in error and "HALL_FACE_VAULT_KEY_FILE" in error
    page.screenshot(path=str(tmp_path / "face-unconfigured.png"), full_page=True)
    assert not services.vault_exists()  # nothing was created by looking or trying
    assert watched.close() == []
