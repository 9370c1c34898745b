"""Groups, playlists, dayparting rules, timeline, conflicts, per-group publishing."""

from __future__ import annotations

import datetime as dt

from content.signing import decode_manifest, verify_signature


def publish_item(hall, news, title: str) -> str:
    item = hall["editor"].post("/api/items", json={"data": news(title)}).json()["id"]
    hall["editor"].post(f"/api/items/{item}/submit")
    hall["reviewer"].post(f"/api/items/{item}/approve", json={})
    hall["publisher"].post(f"/api/items/{item}/publish")
    return item


def test_schedule_compiles_into_a_signed_manifest(hall, news):
    a, b = publish_item(hall, news, "早间新闻"), publish_item(hall, news, "午间新闻")
    p = hall["publisher"]
    assert p.post("/api/playlists", json={"id": "loop", "name": "默认轮播",
                                          "entries": [{"item_id": a, "duration_s": 10}]}).status_code == 201
    assert p.post("/api/playlists", json={"id": "noon", "name": "午间",
                                          "entries": [{"item_id": b, "duration_s": 20}]}).status_code == 201
    assert p.post("/api/groups", json={"name": "lobby", "description": "大厅", "default_playlist_id": "loop"}
                  ).status_code == 201
    rule = {"id": "noon", "group": "lobby", "playlist_id": "noon", "priority": 5, "weekdays": [0, 1, 2, 3, 4],
            "time_from": "11:30", "time_to": "13:30"}
    assert p.post("/api/rules", json=rule).status_code == 201
    result = p.post("/api/groups/lobby/publish").json()
    assert result["changed"] is True and result["delivered"] is False and "排队" in result["message"]

    data = hall.ctx.store.read(result["manifest_sha256"])
    desired = hall.ctx.extras["publisher"].desired("lobby")
    verify_signature(data, desired.signature, hall.ctx.signer.public_key_b64)
    manifest = decode_manifest(data)
    assert manifest.schedule.default_playlist_id == "loop"
    assert [r.id for r in manifest.schedule.rules] == ["noon"]
    assert {i.id for i in manifest.items} >= {a, b}
    assert manifest.item(a).version_sha256 == hall["editor"].get(f"/api/items/{a}").json()["live"]["sha256"]

    again = p.post("/api/groups/lobby/publish").json()
    assert again["changed"] is False and again["version"] == result["version"]


def test_timeline_covers_seven_days_and_shows_conflicts(hall, news):
    a = publish_item(hall, news, "内容")
    p = hall["publisher"]
    p.post("/api/playlists", json={"id": "pa", "name": "甲", "entries": [{"item_id": a}]})
    p.post("/api/playlists", json={"id": "pb", "name": "乙", "entries": [{"item_id": a}]})
    p.post("/api/groups", json={"name": "hall", "default_playlist_id": "pa"})
    p.post("/api/rules", json={"id": "r1", "group": "hall", "playlist_id": "pb", "priority": 1,
                               "time_from": "09:00", "time_to": "12:00"})
    p.post("/api/rules", json={"id": "r2", "group": "hall", "playlist_id": "pa", "priority": 1,
                               "time_from": "11:00", "time_to": "14:00"})
    tl = hall["editor"].get("/api/groups/hall/timeline").json()
    assert tl["conflicts"] == [["r1", "r2"]]
    start = dt.datetime.fromisoformat(tl["segments"][0]["start"])
    end = dt.datetime.fromisoformat(tl["segments"][-1]["end"])
    assert end - start == dt.timedelta(days=7)
    assert {s["playlist_id"] for s in tl["segments"]} == {"pa", "pb"}
    for before, after in zip(tl["segments"], tl["segments"][1:]):
        assert before["end"] == after["start"]


def test_group_kinds_filter_the_manifest(hall, news):
    a = publish_item(hall, news, "新闻")
    faq = hall["editor"].post("/api/items", json={"data": {"kind": "faq", "title": "开放时间", "questions": ["几点开门"],
                                                           "answer": "九点"}}).json()["id"]
    hall["editor"].post(f"/api/items/{faq}/submit")
    hall["reviewer"].post(f"/api/items/{faq}/approve", json={})
    hall["publisher"].post(f"/api/items/{faq}/publish")
    hall["publisher"].post("/api/groups", json={"name": "robots", "kinds": ["faq", "exhibit"]})
    manifest = hall["editor"].get("/api/groups/robots/manifest").json()
    assert [i["id"] for i in manifest["items"]] == [faq]
    assert a not in [i["id"] for i in manifest["items"]]


def test_bad_schedule_input(hall, news):
    p = hall["publisher"]
    assert p.post("/api/playlists", json={"id": "x", "name": "x", "entries": [{"item_id": "missing"}]}
                  ).status_code == 422
    assert p.post("/api/rules", json={"id": "r", "group": "nope", "playlist_id": "x"}).status_code == 404
    assert p.post("/api/rules", json={"id": "r", "group": "lobby", "playlist_id": "x", "weekdays": [7]}
                  ).status_code == 422
    assert hall["editor"].post("/api/groups", json={"name": "g"}).status_code == 403
    assert hall.anon.post("/api/groups/lobby/publish").status_code == 401
