"""Content API: CRUD, versions, stale edits, validation, escaping."""

from __future__ import annotations



def test_editor_creates_draft_and_reads_it_back(hall, news, png_bytes):
    r = hall["editor"].post("/api/items", json={"data": news()})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "draft" and body["head"]["number"] == 1
    assert len(body["head"]["sha256"]) == 64
    got = hall["reviewer"].get(f"/api/items/{body['id']}").json()
    assert got["head"]["data"]["title"] == "党支部开展主题党日活动"
    listing = hall["auditor"].get("/api/items", params={"kind": "news"}).json()
    assert [i["id"] for i in listing["items"]] == [body["id"]]


def test_every_item_kind_can_be_created(hall, news, png_bytes):
    samples = [
        {"kind": "notice", "title": "通知", "body": "内容"},
        {"kind": "lesson", "title": "党课", "body": "学习", "points": 5},
        {"kind": "quiz", "title": "测验", "questions": [{"text": "党的生日？", "options": ["7月1日", "8月1日"],
                                                       "correct": [0]}]},
        {"kind": "service", "title": "党费", "section": "dues"},
        {"kind": "honour", "title": "先进党组织", "year": 2021},
        {"kind": "archive", "title": "史料", "year": 1921},
        {"kind": "exhibit", "title": "红船", "year": 1921},
        {"kind": "faq", "title": "开放时间", "questions": ["几点开门"], "answer": "九点"},
        {"kind": "meeting", "title": "支部党员大会", "meeting_type": "支部党员大会", "branch_id": "b1",
         "starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T10:00:00+08:00"},
        {"kind": "organisation", "title": "第一党支部", "lat": 31.2, "lon": 121.4},
        news(),
    ]
    for data in samples:
        r = hall["editor"].post("/api/items", json={"data": data})
        assert r.status_code == 201, (data["kind"], r.text)
    assert hall["editor"].get("/api/items").json()["total"] == len(samples)


def test_invalid_item_is_422_with_reasons(hall, news, png_bytes):
    r = hall["editor"].post("/api/items", json={"data": {"kind": "quiz", "title": "x", "questions": []}})
    assert r.status_code == 422
    assert r.json()["errors"]
    r = hall["editor"].post("/api/items", json={"data": {"kind": "nonsense", "title": "x"}})
    assert r.status_code == 422


def test_unknown_media_reference_is_refused(hall, news, png_bytes):
    ref = {"sha256": "a" * 64, "mime": "image/png", "size": 1}
    r = hall["editor"].post("/api/items", json={"data": news(images=[ref])})
    assert r.status_code == 422
    assert "媒体" in r.json()["detail"]


def test_item_with_uploaded_image(hall, news, png_bytes):
    up = hall["editor"].post("/api/media", files={"file": ("照片.png", png_bytes(), "image/png")}).json()
    ref = {k: up[k] for k in ("sha256", "mime", "size", "name", "width", "height")}
    r = hall["editor"].post("/api/items", json={"data": news(images=[ref])})
    assert r.status_code == 201, r.text
    assert r.json()["head"]["data"]["images"][0]["sha256"] == up["sha256"]


def test_stale_edit_is_409_with_newest_version(hall, news, png_bytes):
    item = hall["editor"].post("/api/items", json={"data": news()}).json()
    first = hall["editor"].put(f"/api/items/{item['id']}", json={"data": news("第二稿"), "base_version": 1})
    assert first.status_code == 200
    hall["editor"].post(f"/api/items/{item['id']}/submit")
    hall["reviewer"].post(f"/api/items/{item['id']}/approve", json={})
    # The approved version is frozen: this edit starts version 2 ...
    second = hall["editor2"].put(f"/api/items/{item['id']}", json={"data": news("第三稿"), "base_version": 1})
    assert second.status_code == 200 and second.json()["head"]["number"] == 2
    # ... and someone still editing from version 1 is told about version 2.
    stale = hall["editor"].put(f"/api/items/{item['id']}", json={"data": news("旧的修改"), "base_version": 1})
    assert stale.status_code == 409
    assert stale.json()["newest"]["number"] == 2
    assert stale.json()["newest"]["data"]["title"] == "第三稿"


def test_script_in_title_is_stored_verbatim_and_escaped_in_pages(hall, news, png_bytes):
    title = '<script>alert("x")</script>'
    item = hall["editor"].post("/api/items", json={"data": news(title)}).json()
    assert hall["editor"].get(f"/api/items/{item['id']}").json()["title"] == title
    page = hall["editor"].get(f"/items/{item['id']}/preview")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text


def test_anonymous_writes_are_refused(hall, news, png_bytes):
    assert hall.anon.post("/api/items", json={"data": news()}).status_code == 401
    assert hall.anon.get("/api/items").status_code == 401
    assert hall.anon.post("/api/media", files={"file": ("a.png", png_bytes(), "image/png")}).status_code == 401


def test_roles_without_edit_rights_cannot_create(hall, news, png_bytes):
    for role in ("reviewer", "auditor"):
        assert hall[role].post("/api/items", json={"data": news()}).status_code == 403


def test_kiosk_renderer_preview_png(hall, news, png_bytes):
    import pytest

    from admin.kiosk_preview import kiosk_available

    if not kiosk_available():
        pytest.skip("kiosk package not present")
    up = hall["editor"].post("/api/media", files={"file": ("图.png", png_bytes((320, 200)), "image/png")}).json()
    ref = {k: up[k] for k in ("sha256", "mime", "size", "name", "width", "height")}
    item = hall["editor"].post("/api/items", json={"data": news("预览测试新闻", images=[ref])}).json()
    r = hall["editor"].get(f"/items/{item['id']}/preview.png")
    assert r.status_code == 200, r.text
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(r.content))
    assert image.format == "PNG" and image.size[0] >= 1024
    # Cached by version hash: the second request is served from disk.
    cached = list((hall.ctx.settings.data_dir / "admin" / "previews").glob("*.png"))
    assert [p.stem for p in cached] == [item["head"]["sha256"]]
