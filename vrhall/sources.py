"""Where the hall's manifests and media come from, and where its messages
go: a manifest file, the built-in demo, or the network through the Endpoint
(whose asyncio loop runs in a background thread; manifests and guide actions
reach the Panda3D thread through a thread-safe inbox)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("vrhall")


class ContentSource:
    """Where manifests and media come from, and where messages go."""

    def __init__(self, site_id: str, hall_id: str) -> None:
        import queue

        self.site_id = site_id
        self.hall_id = hall_id
        self.inbox: "queue.Queue[object]" = queue.Queue()
        self.manifest = None

    def resolve(self, ref):  # MediaRef -> Path | None
        return None

    def publish(self, message) -> None:
        log.debug("offline: not published %s", message)

    def attach(self, hall) -> None:
        pass

    def wait_manifest(self, timeout: float):
        return self.manifest

    def close(self) -> None:
        pass


class FileSource(ContentSource):
    def __init__(self, manifest, media_dir: Path | None, hall_id: str) -> None:
        super().__init__(manifest.site_id, hall_id)
        self.manifest = manifest
        self.media_dir = media_dir

    def resolve(self, ref):
        if self.media_dir is None:
            return None
        path = self.media_dir / ref.sha256
        return path if path.is_file() else None


class EndpointSource(ContentSource):
    """The network: the Endpoint's asyncio loop runs in a background thread;
    manifests and guide actions reach the Panda3D thread through the inbox."""

    def __init__(self, settings, device_id: str) -> None:
        import threading

        from content.endpoint import Endpoint, EndpointThread

        from .link import subscribe_dialogue, subscribe_guide

        super().__init__(settings.site_id, device_id)
        self._first = threading.Event()
        self._lock = threading.Lock()
        self._taken = False
        self.endpoint = Endpoint(settings, kind="vrhall", device_id=device_id, on_manifest=self._on_manifest)

        subscribe_guide(self.endpoint.client, device_id, self.inbox)
        subscribe_dialogue(self.endpoint.client, self.inbox)
        self.hall = None
        self.settings = settings
        self.endpoint.commands["show_item"] = self._show_item
        self.endpoint.commands["screenshot"] = self._screenshot
        self.thread = EndpointThread(self.endpoint)
        self.thread.start()

    def attach(self, hall) -> None:
        self.hall = hall

    # -- device commands (run in the endpoint's loop; the work runs in the Panda3D thread)
    async def _ask_hall(self, work, timeout: float = 15.0):
        import asyncio
        import concurrent.futures

        if self.hall is None:
            raise RuntimeError("展厅界面未运行")
        future: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(work(self.hall))
            except Exception as exc:  # handed back to the command's reply
                future.set_exception(exc)

        self.inbox.put(run)
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    async def _show_item(self, command) -> dict:
        exhibit_id = command.args.get("item_id") or command.args.get("exhibit_id")

        def show(hall) -> dict:
            if not exhibit_id or hall.layout is None or hall.layout.placement(exhibit_id) is None:
                raise ValueError(f"未知展品 {exhibit_id}")
            hall.fly_to(exhibit_id)
            return {"exhibit_id": exhibit_id}

        return await self._ask_hall(show)

    async def _screenshot(self, command) -> dict:
        """Render the current view and upload it to the admin, like the kiosks."""
        import tempfile

        import httpx

        def shoot(hall) -> bytes:
            with tempfile.TemporaryDirectory() as tmp:
                return hall.screenshot(Path(tmp) / "shot.png").read_bytes()

        png = await self._ask_hall(shoot)
        url = f"{self.settings.admin_url.rstrip('/')}/api/devices/{self.hall_id}/screenshot"
        async with httpx.AsyncClient(timeout=10.0) as http:
            response = await http.post(url, content=png, headers={"Content-Type": "image/png",
                                                                   "X-Request-Id": command.request_id})
            response.raise_for_status()
        return {"bytes": len(png), "uploaded_to": url}

    def _on_manifest(self, manifest) -> None:
        # Until the hall has taken its first manifest, keep the latest here;
        # afterwards every new one is a hot reload, done in the Panda3D thread.
        with self._lock:
            if not self._taken:
                self.manifest = manifest
                self._first.set()
                return
        self.inbox.put(manifest)

    def resolve(self, ref):
        return self.endpoint.media_path(ref.sha256)

    def publish(self, message) -> None:
        self.endpoint.client.publish(message)

    def wait_manifest(self, timeout: float):
        self._first.wait(timeout)
        with self._lock:
            self._taken = True
            return self.manifest

    def close(self) -> None:
        self.thread.stop()


def demo_source(hall_id: str) -> ContentSource:
    import tempfile

    from content.demo import build_demo_manifest, load_demo
    from content.store import MediaStore

    store_dir = Path(tempfile.mkdtemp(prefix="vrhall-demo-"))
    store = MediaStore(store_dir)
    demo = load_demo(store)
    manifest = build_demo_manifest(demo, group="hall", site_id="demo", version=1)

    class _Demo(FileSource):
        def resolve(self, ref):
            path = store.path(ref.sha256)
            return path if path.is_file() else None

    return _Demo(manifest, store_dir, hall_id)
