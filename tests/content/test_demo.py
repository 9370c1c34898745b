"""The demo content: complete, valid in every group's manifest, true to the
required party-history facts, and byte-for-byte deterministic."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from content.cache import MediaCache
from content.demo import build_demo_manifest, load_demo
from content.demo_art import district_map, poster, project
from content.schedule import conflicts, resolve_playlist
from content.signing import decode_manifest, encode_manifest, sha256_hex
from content.store import MediaStore

TODAY = dt.date(2026, 6, 29)  # a Monday
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = MediaStore(tmp_path_factory.mktemp("demo-store"))
    return load_demo(store, today=TODAY), store


def test_demo_has_the_promised_content(demo_store) -> None:
    demo, _ = demo_store
    kinds = Counter(item.kind for item in demo.items)
    assert kinds["exhibit"] >= 12 and kinds["news"] >= 6 and kinds["notice"] >= 4
    assert kinds["lesson"] == 2 and kinds["quiz"] == 2 and kinds["faq"] >= 25
    assert len({item.id for item in demo.items}) == len(demo.items)

    exhibits = demo.of_kind("exhibit")
    assert len({e.section for e in exhibits}) >= 5 and set(e.section for e in exhibits) <= set(demo.sections)
    for exhibit in exhibits:
        assert exhibit.year and exhibit.caption and exhibit.narration and exhibit.aliases and exhibit.image

    urgent = [n for n in demo.of_kind("notice") if n.urgent]
    assert len(urgent) == 1 and urgent[0].valid_from <= TODAY <= urgent[0].valid_to

    single, multiple = sorted(demo.of_kind("quiz"), key=lambda q: q.questions[0].multiple)
    assert all(not q.multiple and len(q.correct) == 1 and q.explanation for q in single.questions)
    assert all(q.multiple and len(q.correct) > 1 and q.explanation for q in multiple.questions)

    sections = {page.section: page for page in demo.of_kind("service")}
    assert {"dues", "transfer", "contacts"} <= set(sections)
    assert len(sections["transfer"].steps) >= 4 and sections["contacts"].contacts

    assert len({h.category for h in demo.of_kind("honour")}) >= 2
    assert len({a.category for a in demo.of_kind("archive")}) >= 2
    for faq in demo.of_kind("faq"):
        assert 2 <= len(faq.questions) <= 3 and faq.answer


def test_required_party_history_facts_are_present(demo_store) -> None:
    demo, _ = demo_store
    text = {e.id: e.caption + e.narration for e in demo.of_kind("exhibit")}
    assert "上海" in text["ex-1921-congress"] and "兴业路76号" in text["ex-1921-congress"]
    assert "嘉兴南湖" in text["ex-1921-redboat"]
    assert "1927年8月1日" in text["ex-1927-nanchang"]
    assert "1934年10月" in text["ex-1934-longmarch"] and "1936年10月" in text["ex-1936-huining"]
    assert "1935年1月" in text["ex-1935-zunyi"] and "遵义" in text["ex-1935-zunyi"]
    assert "1949年10月1日" in text["ex-1949-founding"]
    assert "1978年12月" in text["ex-1978-plenum"] and "改革开放" in text["ex-1978-plenum"]
    assert "2021年7月1日" in text["ex-2021-centenary"]


def test_meetings_cover_the_next_two_weeks(demo_store) -> None:
    demo, _ = demo_store
    branches = {b.id: b for b in demo.of_kind("organisation")}
    members = {m.id: m for m in demo.members}
    meetings = demo.of_kind("meeting")
    assert {m.meeting_type for m in meetings} == {"支部党员大会", "支委会", "党小组会", "党课"}
    start = dt.datetime.combine(TODAY, dt.time(0), tzinfo=SHANGHAI)
    for meeting in meetings:
        assert start <= meeting.starts_at < meeting.ends_at < start + dt.timedelta(days=14)
        assert meeting.branch_id in branches
        assert all(members[mid].branch_id == meeting.branch_id for mid in meeting.expected_members)
    # Today's theme-day lesson makes live check-in demonstrable all day.
    assert any(m.starts_at.date() == TODAY and m.meeting_type == "党课" for m in meetings)
    # A different day gives a different, still valid, schedule.
    later = load_demo(None, today=TODAY + dt.timedelta(days=3))
    assert min(m.starts_at for m in later.of_kind("meeting")).date() == TODAY + dt.timedelta(days=3)


def test_branches_lie_on_the_map_image(demo_store) -> None:
    demo, store = demo_store
    image = Image.open(io.BytesIO(store.read(demo.map.image.sha256)))
    assert (image.width, image.height) == (demo.map.image.width, demo.map.image.height)
    bounds = (demo.map.lat_min, demo.map.lat_max, demo.map.lon_min, demo.map.lon_max)
    branches = demo.of_kind("organisation")
    assert len(branches) >= 5
    for branch in branches:
        x, y = project(branch.lat, branch.lon, bounds, image.size)
        assert 0 <= x < image.width and 0 <= y < image.height
        # Every marker is drawn there: red (the marker's rim) close to the point.
        red = [image.getpixel((int(x) + dx, int(y) + dy)) for dx in range(-16, 17, 2) for dy in range(-16, 17, 2)
               if 0 <= int(x) + dx < image.width and 0 <= int(y) + dy < image.height]
        assert any(r > 180 and g < 60 and b < 70 for r, g, b in red), branch.id


def test_every_group_manifest_is_valid_and_complete(demo_store, caplog) -> None:
    demo, store = demo_store
    caplog.set_level(logging.WARNING)
    for group in ("lobby", "hall", "robots"):
        manifest = build_demo_manifest(demo, group=group, site_id="demo-site", version=7)
        data = encode_manifest(manifest)
        decoded = decode_manifest(data)
        assert decoded == manifest and encode_manifest(decoded) == data
        assert len(decoded.items) == sum(1 for i in demo.items if i.kind in demo.groups[group])
        assert {i.kind for i in decoded.items} == demo.groups[group]
        for sha, ref in decoded.media_refs().items():
            assert store.has(sha) and store.size(sha) == ref.size and sha256_hex(store.read(sha)) == sha
        present = {i.id for i in decoded.items}
        assert decoded.playlist(decoded.schedule.default_playlist_id) is not None
        for playlist in decoded.playlists:
            assert playlist.entries and all(e.item_id in present for e in playlist.entries)
        assert all(decoded.playlist(r.playlist_id) for r in decoded.schedule.rules)
        assert conflicts(decoded.schedule) == []
    assert "skipping" not in caplog.text


def test_dayparting_of_the_demo(demo_store) -> None:
    demo, _ = demo_store
    lobby = build_demo_manifest(demo, group="lobby", site_id="s", version=1)
    hall = build_demo_manifest(demo, group="hall", site_id="s", version=1)

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)

    monday, saturday = dt.date(2026, 6, 15), dt.date(2026, 6, 20)
    assert resolve_playlist(lobby, at(monday, 9)).id == "lobby-morning"
    assert resolve_playlist(lobby, at(monday, 12)).id == "lobby-lunch"
    assert resolve_playlist(lobby, at(monday, 15)).id == "lobby-loop"
    assert resolve_playlist(lobby, at(saturday, 9)).id == "lobby-loop"
    assert resolve_playlist(lobby, at(dt.date(2026, 7, 1), 9)).id == "lobby-july"
    assert resolve_playlist(hall, at(saturday, 11)).id == "hall-highlights"
    assert resolve_playlist(hall, at(monday, 11)).id == "hall-tour"


def test_unknown_group_is_refused(demo_store) -> None:
    with pytest.raises(ValueError, match="unknown demo group"):
        build_demo_manifest(demo_store[0], group="garage", site_id="s", version=1)


_BUILD = """
import datetime as dt, hashlib, json, sys
from pathlib import Path
from content.demo import build_demo_manifest, load_demo
from content.signing import encode_manifest
from content.store import MediaStore
store = MediaStore(Path(sys.argv[1]))
demo = load_demo(store, today=dt.date(2026, 6, 29))
print(json.dumps({g: hashlib.sha256(encode_manifest(build_demo_manifest(demo, group=g, site_id="s", version=1)))
                  .hexdigest() for g in sorted(demo.groups)}))
"""


def test_demo_is_deterministic_across_runs(demo_store, tmp_path) -> None:
    demo, store = demo_store
    here = {g: sha256_hex(encode_manifest(build_demo_manifest(demo, group=g, site_id="s", version=1)))
            for g in sorted(demo.groups)}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _BUILD, str(tmp_path / "other")], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here
    assert sorted(MediaStore(tmp_path / "other").hashes()) == sorted(store.hashes())
    # Drawing again in this process (caches cleared) also gives the same bytes.
    poster.cache_clear()
    district_map.cache_clear()
    again = load_demo(None, today=TODAY)
    assert again.map == demo.map and [i.model_dump() for i in again.items] == [i.model_dump() for i in demo.items]


def test_demo_manifest_applies_through_the_cache(tmp_path, content_server, signer) -> None:
    demo = load_demo(content_server.store, today=TODAY)
    desired = content_server.publish(build_demo_manifest(demo, group="lobby", site_id="s", version=1), signer)
    cache = MediaCache(tmp_path / "kiosk-cache")

    async def scenario():
        try:
            return await cache.apply(desired, signer.public_key_b64)
        finally:
            await cache.aclose()

    manifest = asyncio.run(scenario())
    assert all(cache.verify_media(sha) for sha in manifest.media_refs())
    assert MediaCache(tmp_path / "kiosk-cache").load_current(signer.public_key).version == 1
