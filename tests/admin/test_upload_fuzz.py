"""Hostile uploads through the real app (and, for the size limit, a real
uvicorn): huge bodies are refused while they stream in, truncated images and
decompression bombs get a clear 4xx, archives and polyglots are refused or
served inertly, names and Content-Types that lie change nothing, and the type
detector and image inspector hold under hypothesis (bounded)."""

from __future__ import annotations

import io
import select
import shutil
import socket
import struct
import threading
import time
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from admin.uploads import ALLOWED, UploadRejected, detect_type, inspect_image, safe_name

LIMIT = 1024 * 1024  # max_upload_bytes in these tests


def image_bytes(fmt: str, size=(48, 32), color=(10, 120, 200)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height; the pixel data is one tiny row."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def upload(client, data: bytes, name: str = "file.png", content_type: str = "image/png"):
    return client.post("/api/media", files={"file": (name, data, content_type)})


@pytest.fixture
def editor(hall):
    hall.ctx.settings.max_upload_bytes = LIMIT
    return hall["editor"]


# --- size: refused while streaming, through a real server -----------------------------------------

@pytest.fixture
def small_limit_server(tmp_path, template_dir, make_settings):
    import uvicorn

    from admin.app import build_context, create_app
    from tests.admin.conftest import _free_port

    shutil.copytree(template_dir[0] / "data", tmp_path / "data")
    settings = make_settings(tmp_path, max_upload_bytes=LIMIT)
    ctx = build_context(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx=ctx), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield port, template_dir[1]["editor"]
    finally:
        server.should_exit = True
        thread.join(10)
        ctx.engine.dispose()


def request_head(token: str, extra: str) -> bytes:
    return (f"POST /api/media HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary=xyz\r\n{extra}\r\n").encode()


def read_status(sock: socket.socket, timeout: float = 15) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def test_declared_huge_body_is_refused_before_it_is_sent(small_limit_server):
    port, token = small_limit_server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request_head(token, f"Content-Length: {50 * 1024 * 1024 * 1024}\r\n"))
        sock.sendall(b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n")
        # Not one more byte: the answer must come without the body.
        assert read_status(sock) == b"HTTP/1.1 413 Request Entity Too Large"


def test_chunked_huge_body_is_cut_off_while_streaming(small_limit_server):
    port, token = small_limit_server
    piece = b"\0" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request_head(token, "Transfer-Encoding: chunked\r\n"))
        status = None
        while sent < 64 * LIMIT:
            try:
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
            if select.select([sock], [], [], 0)[0]:
                break
        status = read_status(sock)
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    # Refused soon after the 2 MiB request limit: what was sent beyond it sat in
    # the loopback socket buffers (several MB), never in the server's memory.
    assert sent < 24 * LIMIT, sent


def test_file_part_over_the_limit_is_413(editor):
    r = upload(editor, b"\0\0\0\x18ftypisom" + b"\0" * (LIMIT + 10), "big.mp4", "video/mp4")
    assert r.status_code == 413


# --- images: truncated, bombs ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_images_are_refused_with_415(editor, fmt):
    whole = image_bytes(fmt, size=(200, 150))
    # (A PNG cut only in its trailing IDAT checksum and IEND still holds every
    # pixel, and Pillow accepts it; these cuts lose pixel data.)
    for cut in (len(whole) // 3, len(whole) * 2 // 3):
        r = upload(editor, whole[:cut], f"cut.{fmt.lower()}")
        assert r.status_code == 415, (fmt, cut, r.text)
        assert "图片无法解码" in r.json()["detail"]


def test_decompression_bombs_get_a_clear_413(editor):
    # A header claiming 50,000 x 50,000 pixels (2.5 gigapixels) in 100 bytes:
    # Pillow's own bomb check fires while opening.
    r = upload(editor, png_declaring(50_000, 50_000), "bomb.png")
    assert r.status_code == 413 and "像素过多" in r.json()["detail"]
    # Between Pillow's warning and error limits, where Pillow alone would decode it.
    r = upload(editor, png_declaring(12_000, 10_000), "bomb2.png")
    assert r.status_code == 413 and "像素过多" in r.json()["detail"]
    # A real, fully valid PNG of 8,000 x 6,000 one-bit pixels: ~6 KB on the wire, 48 MP.
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, format="PNG")
    assert len(out.getvalue()) < 100_000
    r = upload(editor, out.getvalue(), "real-bomb.png")
    assert r.status_code == 413 and "8000×6000" in r.json()["detail"]


def test_webp_declaring_a_huge_canvas_is_a_4xx(editor):
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16382).to_bytes(3, "little") * 2
    data = b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x
    r = upload(editor, data, "bomb.webp", "image/webp")
    assert r.status_code in (413, 415), r.text


# --- archives, polyglots, lies -------------------------------------------------------------------

def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("name,data,content_type", [
    ("photo.jpg", zip_bomb(), "image/jpeg"),
    ("photo.png", b"PK\x03\x04" + b"\0" * 100, "image/png"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;<script>alert(1)</script>", "image/gif"),
    ("pic.png", b"GIF89a/*<html><script>alert(1)</script>*/", "image/png"),
    ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png"),
    ("page.jpg", b"<!doctype html><script>alert(document.cookie)</script>", "image/jpeg"),
    ("doc.mp3", b"%PDF-1.7\n" + b"\0" * 64, "audio/mpeg"),
    ("x.png", b"\x1f\x8b\x08\x00" + b"\0" * 64, "image/png"),  # gzip
    ("x.webp", b"RIFF\0\0\0\0AVI LIST", "image/webp"),
])
def test_archives_and_disguised_types_are_refused(editor, name, data, content_type):
    r = upload(editor, data, name, content_type)
    assert r.status_code == 415, (name, r.status_code, r.text)


def test_jpeg_html_polyglot_is_served_as_an_inert_image(editor):
    polyglot = image_bytes("JPEG") + b"<html><script>alert(document.cookie)</script></html>"
    r = upload(editor, polyglot, "poly.html", "text/html")
    assert r.status_code == 201 and r.json()["mime"] == "image/jpeg" and r.json()["name"] == "poly.html"
    served = editor.get(r.json()["url"])
    assert served.content == polyglot
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    csp = served.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp


def test_content_type_and_name_never_decide_the_type(editor):
    r = upload(editor, image_bytes("PNG"), "setup.exe", "application/x-msdownload")
    assert r.status_code == 201 and r.json()["mime"] == "image/png"
    r = upload(editor, image_bytes("WEBP"), "song.mp3", "audio/mpeg")
    assert r.status_code == 201 and r.json()["mime"] == "image/webp"
    assert upload(editor, b"", "empty.png").status_code == 422


NAMES = [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\..\\photo.png", "photo.png"),
    ("a\x00b\x1b[31m\tc.png", "ab[31mc.png"),
    ("\u202egnp.exe", "gnp.exe"),  # the right-to-left override is gone
    ("<img src=x onerror=alert(1)>.png", "_img src=x onerror=alert(1)_.png"),
    ("...", "file"),
    ("  .hidden  ", "hidden"),
    ("党" * 1000 + ".png", "党" * 120),
]


def raw_upload(client, filename: str, data: bytes):
    """multipart written by hand: HTTP clients percent-encode odd file names,
    a hostile client sends the bytes as they are."""
    body = (b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename.encode("utf-8")
            + b"\"\r\nContent-Type: image/png\r\n\r\n" + data + b"\r\n--b0undary--\r\n")
    return client.post("/api/media", content=body, headers={"Content-Type": "multipart/form-data; boundary=b0undary"})


@pytest.mark.parametrize("raw,expected", NAMES)
def test_names_lose_paths_controls_and_marks(editor, raw, expected):
    assert safe_name(raw) == expected
    r = raw_upload(editor, raw, image_bytes("PNG", color=(len(raw) % 256, 3, 4)))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == expected


def test_a_name_too_long_for_the_part_header_is_a_clean_4xx(editor):
    r = raw_upload(editor, "党" * 30_000 + ".png", image_bytes("PNG", color=(9, 9, 9)))
    assert r.status_code in (201, 400), r.text
    if r.status_code == 201:
        assert len(r.json()["name"]) <= 120


# --- hypothesis: detector and inspector over hostile bytes (bounded) -----------------------------

FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NON_MEDIA_PREFIXES = [b"<", b"{", b"PK\x03\x04", b"GIF8", b"%PDF", b"\x1f\x8b", b"BM", b"\x00\x00\x01\x00"]


@FUZZ
@given(st.binary(max_size=256))
def test_detector_on_random_bytes(data):
    found = detect_type(data)
    assert found is None or found in ALLOWED
    assert found == detect_type(data[:64])  # only the head decides


@FUZZ
@given(st.sampled_from(NON_MEDIA_PREFIXES), st.binary(max_size=128))
def test_detector_never_admits_other_formats(prefix, rest):
    data = prefix + rest
    if data[4:8] != b"ftyp":  # the MP4 signature sits at offset 4 (see docs/security.md)
        assert detect_type(data) is None


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.binary(max_size=2048))
def test_inspector_on_random_bytes(data):
    for head in (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBP"):
        try:
            inspect_image(head + data, max_pixels=1_000_000)
        except UploadRejected as exc:
            assert exc.status_code in (413, 415)


SAMPLES = {fmt: image_bytes(fmt, size=(64, 40), color=(200, 40, 40)) for fmt in ("PNG", "JPEG", "WEBP")}


@settings(max_examples=90, deadline=None, database=None, derandomize=True)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_inspector_on_mutated_images(fmt, data):
    original = bytearray(SAMPLES[fmt])
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(original)))
    try:
        info = inspect_image(bytes(original[:cut]), max_pixels=1_000_000)
    except UploadRejected as exc:
        assert exc.status_code in (413, 415)
    else:
        assert info.width * info.height <= 1_000_000 and info.thumbnail.startswith(b"\xff\xd8")


def test_mutated_uploads_never_give_a_server_error(editor):
    import random

    rng = random.Random(8)
    for round_ in range(30):
        fmt = rng.choice(sorted(SAMPLES))
        blob = bytearray(SAMPLES[fmt])
        for _ in range(rng.randint(1, 10)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        blob = blob[: rng.randint(1, len(blob))]
        r = upload(editor, bytes(blob), f"m{round_}.{fmt.lower()}")
        assert r.status_code in (201, 413, 415, 422), (round_, r.status_code, r.text)
