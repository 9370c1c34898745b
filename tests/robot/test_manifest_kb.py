"""The robot learns its knowledge base from the signed manifest the admin
publishes: real broker, real HTTP fetch, real signature check."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from broker.client import HallClient
from broker.messages import DesiredState
from content.endpoint import Endpoint
from content.model import Manifest
from content.signing import ManifestSigner, encode_manifest
from content.store import MediaStore
from robot.runner import follow_manifest
from robot.service import RobotService
from robot.knowledge import KnowledgeBase

_PATH = re.compile(r"^/manifests/(?P<sha>[0-9a-f]{64})\.json$")


@pytest.fixture
def manifest_server(tmp_path):
    store = MediaStore(tmp_path / "store")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            match = _PATH.match(self.path)
            if not match or not store.has(match["sha"]):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = store.read(match["sha"])
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield store, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_manifest_faq_and_exhibits_become_the_robots_knowledge(mqtt_broker, manifest_server, tmp_path):
    store, base_url = manifest_server
    signer = ManifestSigner.generate()
    manifest = Manifest(site_id="test-site", group="robots", version=7, created_at=time.time(), items=[
        {"kind": "faq", "id": "hours", "title": "开放时间", "questions": ["展厅几点开门？"],
         "answer": "展厅每天9:00开门。"},
        {"kind": "exhibit", "id": "zunyi", "title": "遵义会议", "section": "革命征程", "caption": "1935年1月召开。"},
    ])
    data = encode_manifest(manifest)
    sha = store.put_bytes(data)
    desired = DesiredState(site_id="test-site", group="robots", version=7, manifest_sha256=sha,
                           manifest_url=f"{base_url}/manifests/{sha}.json", signature=signer.sign(data),
                           published_at=time.time())

    async def scenario():
        settings = mqtt_broker.settings(data_dir=tmp_path, public_key=signer.public_key_b64)
        endpoint = Endpoint(settings, kind="robot", device_id="robot-1", groups=["robots"])
        robot = RobotService(site_id="test-site", device_id="robot-1", client=endpoint.client,
                             kb=KnowledgeBase(source="empty"))
        follow_manifest(endpoint, robot, asyncio.get_running_loop())
        admin = HallClient(mqtt_broker.settings(), client_id="admin", kind="admin", availability=False)
        await admin.start()
        await endpoint.start()
        assert await admin.wait_connected(10) and await endpoint.client.wait_connected(10)
        try:
            empty = await robot.handle_text("展厅几点开门")
            assert "知识库还是空的" in empty.text
            admin.publish(desired, retain=True)
            deadline = time.monotonic() + 20
            while robot.kb.source != "manifest v7":
                assert time.monotonic() < deadline, "the manifest never became the knowledge base"
                await asyncio.sleep(0.05)
            answer = await robot.handle_text("请问展厅几点开门")
            assert answer.answer_id == "hours" and answer.text == "展厅每天9:00开门。"
            go = await robot.handle_text("带我去遵义会议")
            assert go.guide.exhibit_id == "zunyi"
        finally:
            await endpoint.stop()
            await admin.stop()

    asyncio.run(scenario())
