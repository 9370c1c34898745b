"""`hall vrhall` as operators and the admin's previews run it."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

from content.model import Manifest


def write_manifest(tmp_path, exhibits) -> str:
    manifest = Manifest(site_id="test-site", group="hall", version=3, created_at=0.0, items=list(exhibits))
    path = tmp_path / "manifest.json"
    path.write_text(manifest.model_dump_json(), encoding="utf-8")
    return str(path)


def run_hall(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "broker.cli", "vrhall", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_offscreen_screenshot_at_an_exhibit(tmp_path, exhibits, media_dir):
    manifest = write_manifest(tmp_path, exhibits)
    shot = tmp_path / "shot.png"
    result = run_hall("--offscreen", "--manifest", manifest, "--media", str(media_dir), "--screenshot", str(shot),
                      "--at", "nanhu", "--size", "640x360")
    assert result.returncode == 0, result.stderr
    assert str(shot) in result.stdout
    assert Image.open(shot).size == (640, 360)
    assert "展厅已生成" in result.stderr and "其他" in result.stderr


def test_unknown_exhibit_and_missing_device_are_refused_in_chinese(tmp_path, exhibits, media_dir):
    manifest = write_manifest(tmp_path, exhibits)
    result = run_hall("--offscreen", "--manifest", manifest, "--screenshot", str(tmp_path / "x.png"), "--at", "nope")
    assert result.returncode == 2 and "未知展品" in result.stderr
    result = run_hall("--offscreen", "--screenshot", str(tmp_path / "y.png"))
    assert result.returncode == 2 and "设备编号" in result.stderr


def test_cli_module_is_cheap_to_import():
    code = "import sys, vrhall.cli; print('panda3d' in sys.modules, 'paho' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.split() == ["False", "False"]
