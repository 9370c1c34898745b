"""A PNG of an item exactly as the kiosk draws it: the real kiosk renderer
(`hall kiosk --headless`) run in a child process on a one-item manifest, its
attract loop showing the item, screenshot taken. Cached per version hash
(versions are immutable, so a preview never goes stale)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from content import model as cm
from content.signing import encode_manifest

log = logging.getLogger(__name__)
RENDER_TIMEOUT_S = 60


class PreviewUnavailable(RuntimeError):
    pass


def kiosk_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("kiosk.cli") is not None


def preview_png(*, store: Any, cache_dir: Path, data: dict[str, Any], version_sha256: str) -> Path:
    cached = cache_dir / f"{version_sha256}.png"
    if cached.is_file():
        return cached
    if not kiosk_available():
        raise PreviewUnavailable("终端渲染器未安装")
    item = cm.parse_item({**data, "version_sha256": version_sha256})
    manifest = cm.Manifest(site_id="preview", group="preview", version=1, created_at=time.time(), items=[item],
                           playlists=[cm.Playlist(id="preview", name="预览",
                                                  entries=[cm.PlaylistEntry(item_id=item.id, duration_s=60)])],
                           schedule=cm.Schedule(default_playlist_id="preview"))
    with tempfile.TemporaryDirectory(prefix="hall-preview-") as tmp:
        work = Path(tmp)
        media = work / "media"
        media.mkdir()
        for sha in manifest.media_refs():
            if store.has(sha):
                os.symlink(store.path(sha), media / sha)
        (work / "manifest.json").write_bytes(encode_manifest(manifest))
        out = work / "preview.png"
        argv = [sys.executable, "-m", "broker.cli", "kiosk", "--headless", "--device-id", "preview",
                "--data-dir", str(work / "data"), "--manifest", str(work / "manifest.json"), "--media", str(media),
                "--idle", "0.5", "--seconds", "2.5", "--screenshot", str(out)]
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "HALL_ENV_FILE": "/nonexistent"}
        try:
            done = subprocess.run(argv, cwd=work, env=env, capture_output=True, timeout=RENDER_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise PreviewUnavailable("终端渲染超时") from exc
        if done.returncode != 0 or not out.is_file():
            log.error("kiosk preview failed (%s): %s", done.returncode, done.stderr.decode(errors="replace")[-800:])
            raise PreviewUnavailable("终端渲染失败")
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp_png = cache_dir / f".{version_sha256}.tmp"
        tmp_png.write_bytes(out.read_bytes())
        os.replace(tmp_png, cached)
    return cached
