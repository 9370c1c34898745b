"""Kiosk fixtures: a real pygame display under SDL's dummy driver, the demo
content with generated media, and helpers that inject touch events."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """(manifest, media directory) of the generated demo content."""
    from kiosk.demo import write_demo
    from kiosk.state import load_manifest_file

    root = tmp_path_factory.mktemp("demo")
    path = write_demo(root)
    return load_manifest_file(path), root / "media"


def make_app(demo, tmp_path: Path, **config):
    from kiosk.app import KioskApp
    from kiosk.config import KioskConfig
    from kiosk.images import directory_resolver

    manifest, media = demo
    settings = dict(headless=True, data_dir=tmp_path / "kiosk", idle_s=60.0)
    settings.update(config)
    app = KioskApp(KioskConfig(**settings), manifest=manifest, resolver=directory_resolver(media))
    app.sent = []
    app.state.publish = app.sent.append
    app.draw()
    return app


@pytest.fixture
def kiosk(demo, tmp_path):
    return make_app(demo, tmp_path)


@pytest.fixture
def portrait_kiosk(demo, tmp_path):
    return make_app(demo, tmp_path, portrait=True)


@pytest.fixture
def app_factory(demo, tmp_path):
    """Builds kiosks sharing one data directory (a restart is a second call)."""

    def build(manifest_and_media=None, **config):
        return make_app(manifest_and_media or demo, tmp_path, **config)

    return build
