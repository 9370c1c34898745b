"""Fixtures of the content tests: a real HTTP server on loopback that serves a
MediaStore the way the admin does (``/manifests/<sha>.json`` and
``/media/<sha>``), with switchable faults, and a helper that publishes a
signed manifest into it."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from broker.messages import DesiredState
from content.model import Manifest
from content.signing import ManifestSigner, encode_manifest
from content.store import MediaStore

_PATH_RE = re.compile(r"^/(?:manifests/(?P<manifest>[0-9a-f]{64})\.json|media/(?P<media>[0-9a-f]{64}))$")


@dataclass
class ContentServer:
    store: MediaStore
    base_url: str = ""
    # sha -> "truncate" (close the connection halfway through the body),
    # "flip" (serve the file with one byte changed), "missing" (404) or "hold"
    # (send half, then wait for ``release`` before sending the rest)
    faults: dict[str, str] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    requests: Counter = field(default_factory=Counter)

    def publish(self, manifest: Manifest, signer: ManifestSigner) -> DesiredState:
        data = encode_manifest(manifest)
        sha = self.store.put_bytes(data)
        return DesiredState(site_id=manifest.site_id, group=manifest.group, version=manifest.version,
                            manifest_sha256=sha, manifest_url=f"{self.base_url}/manifests/{sha}.json",
                            signature=signer.sign(data), published_at=time.time())

    def media_requests(self) -> int:
        return sum(n for path, n in self.requests.items() if path.startswith("/media/"))


def _handler(server: ContentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            server.requests[self.path] += 1
            match = _PATH_RE.match(self.path)
            sha = match and (match["manifest"] or match["media"])
            fault = server.faults.get(sha or "")
            if not sha or not server.store.has(sha) or fault == "missing":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = server.store.read(sha)
            if fault == "flip":
                body = body[:-1] + bytes([body[-1] ^ 0x01])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if fault == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                # Kill the connection mid-body, as a crashed server or a pulled cable would.
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if fault == "hold":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                server.release.wait(timeout=30)
                body = body[len(body) // 2:]
            self.wfile.write(body)

    return Handler


@pytest.fixture
def content_server(tmp_path: Path):
    served = ContentServer(store=MediaStore(tmp_path / "server-store"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    httpd.daemon_threads = True
    served.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="content-server", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def signer() -> ManifestSigner:
    return ManifestSigner.generate()
