"""Fixtures of the VR hall tests: a small manifest with real images on disk,
and one offscreen Panda3D ShowBase per test session (Panda3D allows one)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from content.model import Exhibit, Manifest, MediaRef

SITE = "test-site"

EXHIBITS = [
    # (id, section, year, title, caption, with image?)
    ("yida", "建党伟业", 1921, "中共一大会址", "一九二一年七月，中国共产党第一次全国代表大会在上海召开。", True),
    ("nanhu", "建党伟业", 1921, "南湖红船", "中共一大在嘉兴南湖的游船上闭幕，宣告中国共产党诞生。", True),
    ("jinggang", "建党伟业", 1927, "井冈山会师", "一九二八年四月，朱德、毛泽东在井冈山会师。", False),
    ("zunyi", "长征精神", 1935, "遵义会议", "一九三五年一月召开的遵义会议是党的历史上一个生死攸关的转折点。", True),
    ("luding", "长征精神", 1935, "飞夺泸定桥", "红军二十二勇士冒着枪林弹雨夺下泸定桥。", True),
    ("kaiguo", "开国大典", 1949, "开国大典", "一九四九年十月一日，中华人民共和国中央人民政府成立。", True),
    ("misc", None, None, "党员学习园地", "没有展区的展品放进其他展室。", False),
]


def make_image(path: Path, seed: int) -> bytes:
    img = Image.new("RGB", (640, 480), (120 + seed * 15 % 100, 60, 40))
    draw = ImageDraw.Draw(img)
    for i in range(8):
        draw.rectangle([40 + i * 60, 300 - i * 25, 80 + i * 60, 440], fill=(200, 170 - i * 10, 90))
    draw.ellipse([480, 40, 600, 160], fill=(240, 200, 60))
    data_path = path
    img.save(data_path, format="PNG")
    return data_path.read_bytes()


def ref_for(data: bytes, mime: str) -> MediaRef:
    return MediaRef(sha256=hashlib.sha256(data).hexdigest(), mime=mime, size=len(data))


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


def write_media(media_dir: Path, data: bytes, mime: str) -> MediaRef:
    ref = ref_for(data, mime)
    (media_dir / ref.sha256).write_bytes(data)
    return ref


@pytest.fixture(scope="session")
def exhibits(media_dir) -> list[Exhibit]:
    out = []
    for seed, (ident, section, year, title, caption, with_image) in enumerate(EXHIBITS):
        image = None
        if with_image:
            tmp = media_dir / f"{ident}.png"
            image = write_media(media_dir, make_image(tmp, seed), "image/png")
        out.append(Exhibit(id=ident, title=title, section=section, year=year, caption=caption,
                           narration=caption + "这是党史上光辉的一页。", image=image))
    return out


def manifest_of(exhibits, version: int = 1) -> Manifest:
    return Manifest(site_id=SITE, group="hall", version=version, created_at=time.time(), items=list(exhibits))


@pytest.fixture(scope="session")
def resolver(media_dir):
    def resolve(ref: MediaRef):
        path = media_dir / ref.sha256
        return path if path.is_file() else None
    return resolve


@pytest.fixture(scope="session")
def panda_base():
    from vrhall.app import make_base

    base = make_base(offscreen=True, size=(960, 540))
    yield base
    base.destroy()


@pytest.fixture
def hall_app(panda_base, resolver):
    """A fresh HallApp on the shared offscreen ShowBase."""
    from content.fonts import cjk_font_path
    from vrhall.app import HallApp
    from vrhall.scene import HallBuilder

    published = []
    builder = HallBuilder(panda_base.loader, cjk_font_path(), resolver)
    app = HallApp(panda_base, builder, site_id=SITE, hall_id="hall-1", publish=published.append,
                  interactive=False)
    app.published = published  # type: ignore[attr-defined]
    yield app
    app.destroy()


@pytest.fixture(scope="session")
def add_media(media_dir):
    """Store bytes as a cached media file; returns its MediaRef."""
    return lambda data, mime: write_media(media_dir, data, mime)


@pytest.fixture
def content_http(tmp_path):
    """The admin's side of content delivery, minimal: a MediaStore served over
    HTTP at /manifests/<sha>.json and /media/<sha>, and a signer."""
    import re
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from broker.messages import DesiredState
    from content.signing import ManifestSigner, encode_manifest
    from content.store import MediaStore

    store = MediaStore(tmp_path / "admin-store")
    pattern = re.compile(r"^/(?:manifests/([0-9a-f]{64})\.json|media/([0-9a-f]{64}))$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            match = pattern.match(self.path)
            sha = match and (match[1] or match[2])
            if not sha or not store.has(sha):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = store.read(sha)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - screenshot uploads, as the admin takes them
            length = int(self.headers.get("Content-Length", "0"))
            uploads.append((self.path, self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    uploads: list = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    signer = ManifestSigner.generate()

    class Admin:
        public_key = signer.public_key_b64
        url = base_url
        received = uploads

        def put_media(self, path: Path) -> None:
            store.put_bytes(path.read_bytes())

        def desired(self, manifest: Manifest) -> DesiredState:
            data = encode_manifest(manifest)
            sha = store.put_bytes(data)
            return DesiredState(site_id=manifest.site_id, group=manifest.group, version=manifest.version,
                                manifest_sha256=sha, manifest_url=f"{base_url}/manifests/{sha}.json",
                                signature=signer.sign(data), published_at=time.time())

    try:
        yield Admin()
    finally:
        httpd.shutdown()
        httpd.server_close()


def gltf_pyramid() -> bytes:
    """A four-triangle glTF 2.0 model with its buffer embedded (no files)."""
    import base64
    import json
    import struct

    pos = [(0, 0, 0), (1, 0, 0), (0.5, 1, 0), (0.5, 0.5, 1)]
    idx = [0, 1, 2, 0, 1, 3, 1, 2, 3, 2, 0, 3]
    pb = b"".join(struct.pack("<3f", *p) for p in pos)
    ib = b"".join(struct.pack("<H", i) for i in idx)
    buf = pb + ib
    doc = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
           "buffers": [{"byteLength": len(buf),
                        "uri": "data:application/octet-stream;base64," + base64.b64encode(buf).decode()}],
           "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(pb)},
                           {"buffer": 0, "byteOffset": len(pb), "byteLength": len(ib)}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
                          "min": [0, 0, 0], "max": [1, 1, 1]},
                         {"bufferView": 1, "componentType": 5123, "count": 12, "type": "SCALAR"}]}
    return json.dumps(doc).encode()
