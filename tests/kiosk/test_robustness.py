"""Bad input never blanks the screen; alerts take over; Chinese really renders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pygame
import pytest
from PIL import Image

from broker.messages import EmergencyAlert
from content.model import Manifest
from kiosk import events
from kiosk.script import ScriptError, parse, swipe, tap
from kiosk.script import wait as advance



def _alert(**kw):
    values = dict(site_id="s", group="all", title="紧急通知：请立即有序疏散", body="请按照安全出口指示撤离。",
                  expires_at=time.time() + 600)
    values.update(kw)
    return EmergencyAlert(**values)


def test_emergency_takeover_blocks_touch_and_clears_on_cancel(kiosk):
    tap(kiosk, "党情速递")
    alert = _alert()
    events.post(events.ALERT_CHANGED, alert)
    advance(kiosk, 0.1)
    assert kiosk.alert_active()
    tap_target = (kiosk.size[0] // 2, kiosk.size[1] // 2)
    from kiosk.script import press

    press(kiosk, tap_target)
    assert kiosk.current_name == "news"  # the touch did not reach the screen below
    events.post(events.ALERT_CHANGED, alert.model_copy(update={"cancelled": True}))
    advance(kiosk, 0.1)
    assert not kiosk.alert_active() and kiosk.current_name == "news"


def test_alert_expires_by_itself_and_survives_restart_while_valid(app_factory):
    kiosk = app_factory()
    events.post(events.ALERT_CHANGED, _alert(expires_at=time.time() + 600))
    advance(kiosk, 0.1)
    restarted = app_factory()  # same data dir: a reboot of the kiosk
    assert restarted.alert_active()
    restarted.set_alert(_alert(expires_at=time.time() + 0.3, alert_id=restarted.state.alert.alert_id))
    time.sleep(0.4)
    advance(restarted, 0.1)
    assert not restarted.alert_active()
    assert app_factory().state.alert is None


def test_no_idle_attract_loop_over_an_alert(kiosk):
    events.post(events.ALERT_CHANGED, _alert())
    advance(kiosk, 70)
    assert kiosk.current_name != "attract"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_chinese_text_really_renders(kiosk, tmp_path):
    tap(kiosk, "便民服务")
    tap(kiosk, "党费计算")
    path = kiosk.screenshot(tmp_path / "dues.png")
    out = subprocess.run(["tesseract", str(path), "-", "-l", "chi_sim"], capture_output=True, text=True,
                         timeout=120).stdout.replace(" ", "")
    # Tesseract reads the dark body text reliably (white-on-red labels less so).
    hits = [word for word in ("每月税后工资收入", "关于中国共产党党费收缴", "使用和管理的规定", "星期") if word in out]
    assert len(hits) >= 3, out


def test_emergency_screen_reads_back_in_chinese(kiosk, tmp_path):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract-ocr is not installed")
    events.post(events.ALERT_CHANGED, _alert())
    advance(kiosk, 0.1)
    path = kiosk.screenshot(tmp_path / "alert.png")
    out = subprocess.run(["tesseract", str(path), "-", "-l", "chi_sim"], capture_output=True, text=True,
                         timeout=120).stdout.replace(" ", "")
    assert "紧急通知" in out or "有序疏散" in out, out


def test_missing_corrupt_and_huge_images_show_placeholders(demo, tmp_path):
    manifest, media = demo
    broken_dir = tmp_path / "media"
    shutil.copytree(media, broken_dir)
    news = manifest.of_kind("news")
    # corrupt one, delete one, make one a 12000x8000 picture (over the pixel limit)
    (broken_dir / news[0].images[0].sha256).write_bytes(b"not an image at all")
    (broken_dir / news[1].images[0].sha256).unlink()
    Image.new("RGB", (12000, 8000), (200, 16, 46)).save(broken_dir / news[2].images[0].sha256, format="PNG")
    from kiosk.app import KioskApp
    from kiosk.config import KioskConfig
    from kiosk.images import directory_resolver

    app = KioskApp(KioskConfig(headless=True, data_dir=tmp_path / "k"), manifest=manifest,
                   resolver=directory_resolver(broken_dir))
    tap(app, "党情速递")
    for _ in range(3):
        tap(app, "carousel")
        assert app.current_name == "detail"
        swipe(app, "left")
        tap(app, "back")
        swipe(app, "left")
        advance(app, 1)
    assert len(app.images.failures) == 3
    # the screen still shows the page: header red at the top, text drawn
    assert app.surface.get_at((5, 5))[:3] != (0, 0, 0)


def test_big_image_is_downscaled_once_and_cached_on_disk(demo, tmp_path):
    manifest, media = demo
    from kiosk.images import ImageCache, directory_resolver

    big = tmp_path / "big"
    big.mkdir()
    Image.new("RGB", (6000, 4000), (10, 20, 30)).save(big / ("a" * 64), format="JPEG")
    cache = ImageCache(directory_resolver(big), tmp_path / "cache", max_side=1920)
    surf = cache.get("a" * 64, (800, 600))
    assert surf.get_size() == (800, 533)
    assert (tmp_path / "cache" / f"{'a' * 64}-1920.png").exists()
    again = ImageCache(lambda sha: None, tmp_path / "cache", max_side=1920)  # source gone: disk cache serves
    assert again.get("a" * 64, (400, 300)) is not None


def test_unknown_item_kinds_are_skipped_and_the_rest_plays(demo, app_factory):
    manifest, media = demo
    raw = json.loads(manifest.model_dump_json())
    raw["items"].append({"kind": "hologram", "id": "x1", "title": "未知类型"})
    raw["items"].append({"kind": "news", "id": "bad id!", "title": ""})
    fresh = Manifest.model_validate(raw)
    assert len(fresh.items) == len(manifest.items)
    app = app_factory((fresh, media))
    tap(app, "党情速递")
    assert app.current.describe()["current"] == "news-1"


def test_a_screen_that_fails_to_draw_leaves_a_notice_not_a_blank(kiosk, monkeypatch):
    tap(kiosk, "数据统计")

    def explode(*args, **kwargs):
        raise RuntimeError("broken item")

    monkeypatch.setattr(kiosk.current, "draw", explode)
    kiosk.draw()
    assert kiosk.surface.get_at((kiosk.size[0] // 2, 10))[:3] != kiosk.theme.c("bg")[:3]  # header still there
    tap(kiosk, "home")
    assert kiosk.current_name == "home"


def test_new_manifest_event_replaces_content_live(kiosk, demo):
    manifest, _ = demo
    tap(kiosk, "党情速递")
    items = [i for i in manifest.items if i.id != "news-1"]
    events.post(events.MANIFEST_APPLIED, manifest.model_copy(update={"items": items, "version": 2}))
    advance(kiosk, 0.1)
    assert kiosk.current.describe()["current"] == "news-2"


def test_remote_commands_show_item_screenshot_reload_restart(kiosk):
    from kiosk.commands import CommandRequest

    show = CommandRequest("show_item", {"item_id": "honour-1"})
    events.post(events.COMMAND, show)
    advance(kiosk, 0.05)
    assert show.future.result(1)["item_id"] == "honour-1" and kiosk.current_name == "detail"
    shot = CommandRequest("screenshot")
    events.post(events.COMMAND, shot)
    advance(kiosk, 0.05)
    assert shot.future.result(1)["png"].startswith(b"\x89PNG")
    missing = CommandRequest("show_item", {"item_id": "nope"})
    events.post(events.COMMAND, missing)
    advance(kiosk, 0.05)
    with pytest.raises(RuntimeError):
        missing.future.result(1)
    reload = CommandRequest("reload")
    events.post(events.COMMAND, reload)
    advance(kiosk, 0.05)
    assert kiosk.current_name == "home"
    restart = CommandRequest("restart")
    events.post(events.COMMAND, restart)
    advance(kiosk, 0.05)
    assert kiosk.restart_requested and not kiosk.running


def test_script_format_errors_are_clear():
    assert [s.action for s in parse("tap 党情速递\nwait 1 # c\nswipe left\n")] == ["tap", "wait", "swipe"]
    assert parse('[{"tap": [10, 20]}, {"expect": "home"}]')[0].args == ["10", "20"]
    for bad in ("dance 1", "wait soon", "tap", "[{\"tap\": 1, \"wait\": 2}]", "[oops"):
        with pytest.raises(ScriptError):
            parse(bad)


def test_cli_headless_script_and_screenshot(tmp_path):
    script = tmp_path / "tour.txt"
    script.write_text("tap 便民服务\ntap 党费计算\ntap cat:student\nexpect screen dues\n", encoding="utf-8")
    shot = tmp_path / "end.png"
    proc = subprocess.run([sys.executable, "-m", "broker.cli", "kiosk", "--device-id", "kiosk-cli", "--headless",
                           "--demo", "--data-dir", str(tmp_path / "var"), "--script", str(script),
                           "--screenshot", str(shot), "--portrait"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert pygame.image.load(str(shot)).get_size() == (1080, 1920)
    failing = tmp_path / "bad.txt"
    failing.write_text("tap 不存在的按钮\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "broker.cli", "kiosk", "--device-id", "kiosk-cli", "--headless",
                           "--demo", "--data-dir", str(tmp_path / "var"), "--script", str(failing)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1 and "不存在的按钮" in proc.stderr


def test_withdrawn_item_on_screen_goes_home(kiosk, demo):
    manifest, _ = demo
    tap(kiosk, "通知公告")
    tap(kiosk, "关于开展安全隐患排查的紧急通知")
    assert kiosk.current_name == "detail"
    items = [i for i in manifest.items if i.id != "notice-urgent"]
    events.post(events.MANIFEST_APPLIED, manifest.model_copy(update={"items": items, "version": 3}))
    advance(kiosk, 0.1)
    assert kiosk.current_name == "home"
