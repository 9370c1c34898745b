"""The nginx caching proxy configuration (`admin.proxy_config`, `hall admin nginx-config`).

Parsed back into blocks and directives (what matters is present, `private`
is never cached, only `/media/` is cached), checked by `nginx -t`, and run: a
real nginx in front of a real HTTP upstream that counts what reaches it.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from admin.cli import app
from admin.proxy_config import ProxyConfigError, ProxySettings, http_block, standalone

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install -y nginx-light)")


# -- a small parser of nginx's syntax: enough to read our own output back ------------
def tokens(text: str) -> list[str]:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "#":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif ch in "{};":
            out.append(ch)
            i += 1
        elif ch in "'\"":
            end = text.index(ch, i + 1)
            out.append(text[i + 1:end])
            i = end + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in "{};":
                j += 1
            out.append(text[i:j])
            i = j
    return out


def parse(text: str) -> list:
    """[(name, [args], children or None), ...]"""
    stream = iter(tokens(text))

    def block() -> list:
        items, words = [], []
        for tok in stream:
            if tok == ";":
                items.append((words[0], words[1:], None))
                words = []
            elif tok == "{":
                items.append((words[0], words[1:], block()))
                words = []
            elif tok == "}":
                assert not words, words
                return items
            else:
                words.append(tok)
        assert not words, words
        return items

    return block()


def find(items: list, name: str, *args: str) -> list:
    return [item for item in items if item[0] == name and (not args or tuple(item[1]) == args)]


def walk(items: list):
    for item in items:
        yield item
        if item[2] is not None:
            yield from walk(item[2])


def settings(tmp: Path, **kw) -> ProxySettings:
    return ProxySettings(**{"upstream": "http://127.0.0.1:8000", "listen": "127.0.0.1:18080",
                            "cache_dir": tmp / "cache", **kw})


def test_media_location_caches_by_upstream_headers_with_a_lock_and_keepalive(tmp_path):
    conf = parse(http_block(settings(tmp_path, cache_size="500m")))
    (path,) = find(conf, "proxy_cache_path")
    assert path[1][0] == str(tmp_path / "cache") and "keys_zone=hall_media:32m" in path[1]
    assert "max_size=500m" in path[1]
    (upstream,) = find(conf, "upstream", "hall_admin")
    assert find(upstream[2], "server", "127.0.0.1:8000") and find(upstream[2], "keepalive")
    # below uvicorn's 5 s idle close, so nginx never reuses a connection being closed
    (idle,) = find(upstream[2], "keepalive_timeout")
    assert int(idle[1][0].rstrip("s")) < 5
    (server,) = find(conf, "server")
    assert find(server[2], "listen")[0][1][0] == "127.0.0.1:18080"
    (media,) = find(server[2], "location", "/media/")
    body = media[2]
    assert find(body, "proxy_pass", "http://hall_admin")
    assert find(body, "proxy_cache", "hall_media")
    assert find(body, "proxy_cache_lock", "on")
    assert find(body, "proxy_http_version", "1.1")
    assert find(body, "proxy_set_header", "Connection", "")
    assert find(body, "proxy_set_header", "Host", "$http_host")  # the admin checks Origin against it
    assert find(body, "proxy_set_header", "X-Forwarded-For", "$remote_addr")  # not a client-written chain
    # requests with credentials are neither answered from nor stored in the cache
    assert find(body, "proxy_no_cache", "$http_authorization", "$http_cookie")
    assert find(body, "proxy_cache_bypass", "$http_authorization", "$http_cookie")


def test_private_is_never_cached_and_only_media_is(tmp_path):
    conf = parse(standalone(settings(tmp_path, runtime_dir=tmp_path)))
    every = list(walk(conf))
    # lifetimes come only from the upstream: no proxy_cache_valid, and the
    # upstream's Cache-Control (private, no-store) is never ignored
    assert not [d for d in every if d[0] == "proxy_cache_valid"]
    assert not [d for d in every if d[0] == "proxy_ignore_headers"]
    caching = [d for d in every if d[0] == "proxy_cache" and d[1] != ["off"]]
    assert len(caching) == 1
    locations = {tuple(d[1]): d[2] for d in every if d[0] == "location"}
    assert set(locations) == {("/media/",), ("/",)}
    assert find(locations[("/",)], "proxy_cache", "off")
    assert find(locations[("/",)], "proxy_pass", "http://hall_admin")
    assert find(locations[("/",)], "client_max_body_size")


def test_https_upstream_is_verified_and_bad_settings_are_refused(tmp_path):
    conf = parse(http_block(settings(tmp_path, upstream="https://admin.hall.lan:8443",
                                     upstream_ca=tmp_path / "ca.crt")))
    (upstream,) = find(conf, "upstream", "hall_admin")
    assert find(upstream[2], "server", "admin.hall.lan:8443")
    media = find(find(conf, "server")[0][2], "location", "/media/")[0][2]
    assert find(media, "proxy_pass", "https://hall_admin")
    assert find(media, "proxy_ssl_verify", "on")
    assert find(media, "proxy_ssl_trusted_certificate", str(tmp_path / "ca.crt"))
    for bad in ({"upstream": "ftp://x"}, {"upstream": "http://x:1/admin"}, {"cache_size": "lots"},
                {"listen": "8080"}, {"cache_dir": Path("/tmp/a;b")}):
        with pytest.raises(ProxyConfigError):
            settings(tmp_path, **bad)


def test_cli_writes_full_file_and_snippet(tmp_path):
    runner = CliRunner()
    full = tmp_path / "nginx.conf"
    r = runner.invoke(app, ["nginx-config", str(full), "--upstream", "http://10.0.0.5:8000", "--listen",
                            "0.0.0.0:9090", "--cache-dir", str(tmp_path / "c"), "--cache-size", "2g"])
    assert r.exit_code == 0, r.output
    conf = parse(full.read_text())
    assert find(conf, "events") and find(conf, "http")
    assert find(conf, "user", "www-data")  # Debian's nginx user, for the cache directory's owner
    http = find(conf, "http")[0][2]
    assert find(http, "upstream", "hall_admin")[0][2][0][1] == ["10.0.0.5:8000"]
    assert "max_size=2g" in find(http, "proxy_cache_path")[0][1]
    snippet = tmp_path / "hall-media.conf"
    r = runner.invoke(app, ["nginx-config", str(snippet), "--upstream", "http://10.0.0.5:8000", "--snippet"])
    assert r.exit_code == 0, r.output
    assert not find(parse(snippet.read_text()), "events") and find(parse(snippet.read_text()), "server")
    bad = runner.invoke(app, ["nginx-config", str(tmp_path / "x.conf"), "--upstream", "10.0.0.5"])
    assert bad.exit_code == 2 and "上游地址" in bad.output


@needs_nginx
def test_nginx_accepts_the_generated_files(tmp_path):
    full = tmp_path / "nginx.conf"
    full.write_text(standalone(settings(tmp_path, runtime_dir=tmp_path)))
    r = subprocess.run([NGINX, "-t", "-c", str(full), "-e", str(tmp_path / "error.log")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # the snippet, included in http {} as Debian's nginx.conf includes conf.d/*.conf
    snippet = tmp_path / "hall-media.conf"
    # an IP: nginx resolves upstream names when it starts, and this machine has no DNS
    snippet.write_text(http_block(settings(tmp_path, upstream="https://127.0.0.1:8443")))
    wrapper = tmp_path / "wrapper.conf"
    wrapper.write_text(f"pid {tmp_path}/w.pid;\nevents {{}}\nhttp {{\n"
                       f"client_body_temp_path {tmp_path}/b;\nproxy_temp_path {tmp_path}/p;\n"
                       f"fastcgi_temp_path {tmp_path}/f;\nuwsgi_temp_path {tmp_path}/u;\nscgi_temp_path {tmp_path}/s;\n"
                       f"include {snippet};\n}}\n")
    r = subprocess.run([NGINX, "-t", "-c", str(wrapper), "-e", str(tmp_path / "error.log")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


# -- the configuration running: real nginx, a real upstream that counts --------------
class Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _OriginHandler)


class _OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        if "/slow" in self.path:
            time.sleep(0.3)  # a new file being read while the whole herd asks for it
        body = self.path.encode() * 10
        # as admin.media answers: published → public immutable, unpublished → private
        cache = "private, max-age=86400, immutable" if "/private" in self.path else \
            "public, max-age=31536000, immutable"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("ETag", '"x"')
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def proxied():
    from broker.bench_push import ProxyProcess

    origin = Origin()
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    proxy = ProxyProcess(f"http://127.0.0.1:{origin.server_address[1]}").start()
    try:
        yield origin, proxy
    finally:
        proxy.stop()
        origin.shutdown()
        origin.server_close()


def _get(url: str, headers: dict | None = None) -> tuple[int, str]:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as resp:
        resp.read()
        return resp.status, resp.headers.get("X-Cache-Status", "")


@needs_nginx
def test_running_proxy_caches_public_media_once_and_never_private_or_other_paths(proxied):
    origin, proxy = proxied
    for _ in range(3):
        assert _get(f"{proxy.url}/media/public-a")[0] == 200
        assert _get(f"{proxy.url}/media/private-b")[0] == 200
        assert _get(f"{proxy.url}/api/public-c")[0] == 200  # public headers, but not under /media/
        assert _get(f"{proxy.url}/media/public-d", {"Cookie": "hall_session=x"})[0] == 200
    assert origin.hits == {"/media/public-a": 1, "/media/private-b": 3, "/api/public-c": 3, "/media/public-d": 3}
    assert _get(f"{proxy.url}/media/public-a")[1] == "HIT"
    assert _get(f"{proxy.url}/media/private-b")[1] == "MISS"


@needs_nginx
def test_a_herd_asking_for_one_new_file_makes_one_upstream_fetch(proxied):
    from concurrent.futures import ThreadPoolExecutor

    origin, proxy = proxied
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda _: _get(f"{proxy.url}/media/slow-new"), range(50)))
    assert [code for code, _ in results] == [200] * 50
    assert origin.hits == {"/media/slow-new": 1}
    assert proxy.since_mark()["origin"] == 1


def test_bench_without_nginx_says_so_in_chinese_and_english_before_starting_anything(monkeypatch):
    import os

    from broker.cli import app as hall

    monkeypatch.setattr(shutil, "which", lambda *_: None)
    monkeypatch.setattr(os, "access", lambda *_: False)
    r = CliRunner().invoke(hall, ["bench", "push", "--devices", "1", "--media-proxy"])
    assert r.exit_code == 2
    assert "需要 nginx" in r.output and "nginx is needed" in r.output
    assert "apt-get install -y nginx-light" in r.output


@needs_nginx
def test_behind_nginx_the_real_admin_keeps_drafts_private_and_caches_what_it_published(live_admin, news, png_bytes):
    """The whole admin behind the proxy: a draft fetched by a signed-in editor is
    never served to anyone else afterwards, a published picture is fetched from
    the admin once, and the API and uploads pass through."""
    import httpx

    from broker.bench_push import ProxyProcess

    proxy = ProxyProcess(live_admin.url).start()
    try:
        def via(role: str | None) -> httpx.Client:
            headers = {"Authorization": f"Bearer {live_admin.tokens[role]}"} if role else {}
            return httpx.Client(base_url=proxy.url, headers=headers, timeout=10)

        editor, anon = via("editor"), via(None)
        published = editor.post("/api/media", files={"file": ("a.png", png_bytes(color=(7, 7, 7)), "image/png")})
        draft = editor.post("/api/media", files={"file": ("b.png", png_bytes(color=(6, 6, 6)), "image/png")})
        assert published.status_code == draft.status_code == 201, draft.text
        url, draft_url = published.json()["url"], draft.json()["url"]
        assert anon.get(draft_url).status_code == 401
        seen = editor.get(draft_url)
        assert seen.status_code == 200 and seen.headers["cache-control"].startswith("private")
        assert anon.get(draft_url).status_code == 401  # not kept for the next asker
        assert anon.get(url).status_code == 401  # not published yet: 401 is not cached either

        ref = {k: published.json()[k] for k in ("sha256", "mime", "size", "name", "width", "height")}
        item = editor.post("/api/items", json={"data": news("代理测试", images=[ref])}).json()["id"]
        assert editor.post(f"/api/items/{item}/submit").status_code == 200
        assert via("reviewer").post(f"/api/items/{item}/approve", json={}).status_code == 200
        publisher = via("publisher")
        assert publisher.post(f"/api/items/{item}/publish").status_code == 200
        assert publisher.post("/api/playlists", json={"id": "loop", "name": "轮播", "entries": [
            {"item_id": item, "duration_s": 10}]}).status_code == 201
        assert publisher.post("/api/groups", json={"name": "lobby", "default_playlist_id": "loop"}).status_code == 201
        assert publisher.post("/api/groups/lobby/publish").status_code == 200

        proxy.mark()
        statuses = [anon.get(url) for _ in range(5)]
        assert [r.status_code for r in statuses] == [200] * 5
        assert statuses[0].headers["x-cache-status"] == "MISS"
        assert {r.headers["x-cache-status"] for r in statuses[1:]} == {"HIT"}
        assert statuses[-1].content == png_bytes(color=(7, 7, 7))
        assert proxy.since_mark()["origin"] == 1
        # a resumed download: ranges answered from the cache
        part = anon.get(url, headers={"Range": "bytes=5-104"})
        assert part.status_code == 206 and part.content == png_bytes(color=(7, 7, 7))[5:105]
        assert part.headers["x-cache-status"] == "HIT"
        assert anon.get(draft_url).status_code == 401  # the draft still is not
    finally:
        proxy.stop()
