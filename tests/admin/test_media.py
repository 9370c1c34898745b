"""Uploads: type from the bytes, size limit, safe names, thumbnails, serving."""

from __future__ import annotations

import io
import wave

import pytest

from admin.uploads import detect_type, safe_name


def wav_bytes() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


def test_image_upload_with_thumbnail_and_immutable_serving(hall, png_bytes):
    data = png_bytes((800, 600))
    r = hall["editor"].post("/api/media", files={"file": ("../../etc/党徽.png", data, "text/plain")})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["mime"] == "image/png" and (up["width"], up["height"]) == (800, 600)
    assert up["name"] == "党徽.png"
    # Not published yet: signed-in users only, and no shared cache may keep it.
    assert hall.anon.get(up["url"]).status_code == 401
    served = hall["editor"].get(up["url"])
    assert served.status_code == 200 and served.content == data
    assert "immutable" in served.headers["cache-control"] and served.headers["etag"] == f'"{up["sha256"]}"'
    assert served.headers["cache-control"].startswith("private")
    thumb = hall["editor"].get(up["thumb_url"])
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    from PIL import Image

    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320
    # Same bytes again: same hash, no second row.
    again = hall["editor"].post("/api/media", files={"file": ("copy.png", data, "image/png")}).json()
    assert again["sha256"] == up["sha256"] and again["name"] == "党徽.png"


def test_audio_type_comes_from_bytes_not_name(hall):
    r = hall["editor"].post("/api/media", files={"file": ("讲解.mp3", wav_bytes(), "audio/mpeg")})
    assert r.status_code == 201 and r.json()["mime"] == "audio/wav"


def test_wrong_type_is_415(hall):
    for name, data in [("evil.png", b"<?php system($_GET['c']); ?>"), ("a.gif", b"GIF89a" + b"\x00" * 20),
                       ("doc.pdf", b"%PDF-1.4 ...")]:
        r = hall["editor"].post("/api/media", files={"file": (name, data, "image/png")})
        assert r.status_code == 415, name


def test_truncated_image_is_refused(hall, png_bytes):
    data = png_bytes((300, 300))[:120]
    assert hall["editor"].post("/api/media", files={"file": ("x.png", data, "image/png")}).status_code == 415


def test_oversized_upload_is_413(hall, png_bytes):
    hall.ctx.settings.max_upload_bytes = 10_000
    big = png_bytes((600, 600), color=(1, 2, 3)) + b"\x00" * 20_000
    r = hall["editor"].post("/api/media", files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 413
    assert "上限" in r.json()["detail"]


@pytest.mark.parametrize("raw,expected", [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\a\\照片.jpg", "照片.jpg"), ("a\x00b\x1fc.png", "abc.png"),
    ("  ..  ", "file"), ("x" * 300 + ".png", "x" * 120), ('a<b>:"c".png', "a_b___c_.png"),
])
def test_safe_name(raw, expected):
    assert safe_name(raw) == expected


@pytest.mark.parametrize("head,mime", [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 8, "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
    (b"OggS\x00\x02", "audio/ogg"), (b"ID3\x04\x00", "audio/mpeg"), (b"\xff\xfb\x90\x00", "audio/mpeg"),
    (b"\x00\x00\x00\x18ftypmp42", "video/mp4"), (b"GIF89a", None), (b"<svg", None), (b"\xff\x00", None),
])
def test_detect_type(head, mime):
    assert detect_type(head) == mime


def test_published_media_is_public_and_drafts_stay_private(hall, news, png_bytes):
    """What a screen needs (the manifest and every file it names) is served to
    anyone; a draft's picture and a screenshot need a signed-in user."""
    published = hall["editor"].post("/api/media", files={"file": ("a.png", png_bytes(color=(9, 9, 9)), "image/png")})
    draft = hall["editor"].post("/api/media", files={"file": ("b.png", png_bytes(color=(8, 8, 8)), "image/png")})
    refs = [{k: up.json()[k] for k in ("sha256", "mime", "size", "name", "width", "height")}
            for up in (published, draft)]
    item = hall["editor"].post("/api/items", json={"data": news("图片新闻", images=[refs[0]])}).json()["id"]
    hall["editor"].post("/api/items", json={"data": news("草稿新闻", images=[refs[1]])})
    hall["editor"].post(f"/api/items/{item}/submit")
    hall["reviewer"].post(f"/api/items/{item}/approve", json={})
    assert hall.anon.get(published.json()["url"]).status_code == 401  # approved, but in no manifest yet
    hall["publisher"].post(f"/api/items/{item}/publish")
    assert hall["publisher"].post("/api/playlists", json={"id": "loop", "name": "轮播", "entries": [
        {"item_id": item, "duration_s": 10}]}).status_code == 201
    assert hall["publisher"].post("/api/groups", json={"name": "lobby", "default_playlist_id": "loop"}
                                  ).status_code == 201
    result = hall["publisher"].post("/api/groups/lobby/publish").json()

    manifest = hall.anon.get(f"/media/{result['manifest_sha256']}")
    assert manifest.status_code == 200 and manifest.headers["cache-control"].startswith("public")
    picture = hall.anon.get(published.json()["url"])
    assert picture.status_code == 200 and picture.headers["cache-control"].startswith("public")
    assert hall.anon.head(published.json()["url"]).status_code == 200
    assert hall.anon.get(draft.json()["url"]).status_code == 401
    assert hall.anon.get(draft.json()["url"], headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert hall.anon.get(f"/media/{'0' * 64}").status_code == 401  # unknown: no hint whether it exists
    assert hall["auditor"].get(draft.json()["url"]).status_code == 200

    # A new process (restart) knows the publish history from the database.
    from admin.app import create_app
    from fastapi.testclient import TestClient

    hall.ctx.extras.pop("media_access")
    fresh = TestClient(create_app(ctx=hall.ctx))
    assert fresh.get(published.json()["url"]).status_code == 200
