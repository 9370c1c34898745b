"""Face check-in inside the robot process (``hall robot --camera SRC``).

Wires the ``CheckInAgent`` to what the robot already runs:

- meetings: the applied manifest's ``meeting`` items (``endpoint.manifest``),
  read on every frame, so a new manifest takes effect at once;
- gallery: the signed bundle from ``GET {admin_url}/api/devices/{id}/face-bundle``
  (HTTP Basic with the device's MQTT credentials), fetched again on each new
  manifest and every ``HALL_FACE_BUNDLE_REFRESH_SECONDS``; the last verified copy
  is cached on disk for when the admin is away;
- greetings: the robot's own speaker (the one that answers questions);
- check-ins: published on the Endpoint's ``HallClient`` (``agent.attach``) and
  kept in an on-disk outbox until the admin acks them.

Without a camera the robot says so (in Chinese) and keeps serving visitors by
voice; a live camera that comes back later is picked up by the agent's reconnect.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import FaceConfig

log = logging.getLogger(__name__)

MSG_NO_CAMERA = "人脸签到：{problem}。语音导览照常运行{retry}"
MSG_NO_GALLERY = "人脸签到：人脸库包暂不可用（{problem}），{fallback}"
MSG_MODEL = "人脸签到无法启动：{problem}。语音导览照常运行"


def device_auth_headers(settings: Any, device_id: str) -> dict[str, str]:
    """HTTP Basic with the device's MQTT credentials (what the admin checks)."""
    if not settings.mqtt_password:
        return {}
    user = settings.mqtt_username or device_id
    token = base64.b64encode(f"{user}:{settings.mqtt_password}".encode("utf-8")).decode("ascii")
    return {"Authorization": f"Basic {token}"}


class FaceCheckInService:
    def __init__(self, *, settings: Any, endpoint: Any, camera: str, say: Callable[[str], Any],
                 config: FaceConfig | None = None, pipeline: Any = None, place: str | None = None,
                 status: Callable[[str], Any] | None = None) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.device_id = endpoint.device_id
        self.camera = str(camera)
        self.say = say
        self.place = place
        self.status = status or (lambda text: print(text, flush=True))
        config = config or FaceConfig()
        # Relative defaults ("var/face-outbox") would depend on the working directory:
        # keep the robot's face files beside its manifest cache unless configured.
        if "outbox_dir" not in config.model_fields_set:
            config = config.model_copy(update={"outbox_dir": endpoint.dir / "face-outbox"})
        self.config = config
        self.cache_file: Path = endpoint.dir / "face" / "gallery.bundle"
        self.pipeline = pipeline
        self.agent: Any = None
        self.source: Any = None
        self.bundle_members: int | None = None  # members in the gallery in use (None: none loaded)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._refresh_lock = asyncio.Lock()
        self._first_gallery = asyncio.Event()  # set after the first fetch attempt (success or not)

    # -- setup (before endpoint.start(): it replays the cached manifest) ----------------
    async def prepare(self) -> bool:
        """Load the face models, open the camera, attach to the endpoint. False:
        face check-in is off (the reason was shown); the robot runs on without it."""
        from .agent import CheckInAgent
        from .camera import FrameSource
        from .errors import CameraError, FaceError
        from .gallery import Gallery
        from .outbox import CheckInOutbox
        from .pipeline import FacePipeline

        # OpenCV's own warnings (one per reconnect) would bury the Chinese status lines.
        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
        source = FrameSource(self.camera)
        try:
            await asyncio.to_thread(source.open)
        except CameraError as exc:
            if source.is_file:
                self.status(MSG_NO_CAMERA.format(problem=exc, retry="。"))
                return False
            # A live camera may be plugged in later: the agent keeps retrying with backoff.
            self.status(MSG_NO_CAMERA.format(problem=exc, retry="，接通摄像头后自动开始签到。"))
        try:
            if self.pipeline is None:
                self.pipeline = await asyncio.to_thread(FacePipeline.from_config, self.config)
        except FaceError as exc:
            source.close()
            self.status(MSG_MODEL.format(problem=exc))
            return False
        self.source = source
        empty = Gallery.for_embedder(self.pipeline.embedder, threshold=self.config.threshold,
                                     min_margin=self.config.min_margin)
        self.agent = CheckInAgent(config=self.config, site_id=self.settings.site_id, device_id=self.device_id,
                                  pipeline=self.pipeline, gallery=empty, meetings=self.meetings,
                                  outbox=CheckInOutbox(self.config.outbox_dir), publish=self.endpoint.client.publish,
                                  greet=self.say, status=self._agent_status, place=self.place)
        self.agent.attach(self.endpoint.client)
        self._follow_manifest()
        return True

    def _agent_status(self, text: str) -> None:
        self.status(f"人脸签到：{text}")

    def meetings(self) -> list[Any]:
        manifest = self.endpoint.manifest
        return list(manifest.of_kind("meeting")) if manifest is not None else []

    def _follow_manifest(self) -> None:
        previous = self.endpoint.on_manifest

        async def on_manifest(manifest: Any) -> None:
            if previous is not None:
                result = previous(manifest)
                if asyncio.iscoroutine(result):
                    await result
            # Expected members change with the meetings: fetch the bundle again,
            # off the manifest path (the admin may be slow or away).
            self._tasks.append(asyncio.create_task(self.refresh_gallery(), name="face-bundle"))

        self.endpoint.on_manifest = on_manifest

    # -- the gallery ------------------------------------------------------------------
    async def refresh_gallery(self) -> bool:
        """Fetch, verify and swap in this device's bundle (or the cached copy)."""
        from .bundle import bundle_url, fetch_bundle, robot_seal_key
        from .errors import FaceError

        async with self._refresh_lock:
            try:
                bundle = await asyncio.to_thread(
                    fetch_bundle, bundle_url(self.settings.admin_url, self.device_id),
                    public_key=self.endpoint.public_key, seal_key=robot_seal_key(self.config),
                    expected_model=self.pipeline.embedder.name, cache_file=self.cache_file,
                    headers=device_auth_headers(self.settings, self.device_id),
                    ca_file=self.settings.http_ca_file)
                gallery = bundle.to_gallery(threshold=self.config.threshold, min_margin=self.config.min_margin)
            except FaceError as exc:
                fallback = "继续使用上一份人脸库" if self.bundle_members is not None else "暂时无法刷脸签到"
                self.status(MSG_NO_GALLERY.format(problem=exc, fallback=fallback))
                return False
            finally:
                self._first_gallery.set()
            self.agent.gallery = gallery  # one assignment: the frame thread sees the old or the new one
            self.bundle_members = len(gallery)
            log.info("face gallery: %d members for %s", len(gallery), self.device_id)
            return True

    async def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.config.bundle_refresh_seconds)
            except asyncio.TimeoutError:
                await self.refresh_gallery()

    # -- running ----------------------------------------------------------------------
    def start(self) -> None:
        """Run the camera loop in the background (after endpoint.start())."""
        if self.agent is None:
            return
        if self.bundle_members is None and not any(t.get_name() == "face-bundle" for t in self._tasks):
            # No manifest yet (first start): the gallery still comes from the admin or the cache.
            self._tasks.append(asyncio.create_task(self.refresh_gallery(), name="face-bundle"))
        self._tasks.append(asyncio.create_task(self._refresh_loop(), name="face-bundle-refresh"))
        self._tasks.append(asyncio.create_task(self._run_camera(), name="face-camera"))

    async def _wait_ready(self, limit: float = 30.0) -> None:
        """Frames before the first gallery attempt could only be "unknown". A video
        file is a replay (tests, a recorded queue): it also waits for the
        manifest's meetings, since its frames cannot be seen again later."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        try:
            await asyncio.wait_for(self._first_gallery.wait(), timeout=limit)
        except asyncio.TimeoutError:
            return
        while self.source.is_file and not self.meetings() and loop.time() < deadline and not self._stop.is_set():
            await asyncio.sleep(0.1)

    async def _run_camera(self) -> None:
        await self._wait_ready()
        try:
            stats = await self.agent.run(self.source, stop=self._stop)
        except Exception:  # the robot's voice must outlive the camera loop
            log.exception("人脸签到循环异常退出")
            return
        if not self._stop.is_set():
            self.status(f"人脸签到：画面结束（处理 {stats.processed} 帧，签到 {stats.checkins} 人）")

    @property
    def camera_done(self) -> bool:
        return any(t.get_name() == "face-camera" and t.done() for t in self._tasks)

    async def stop(self) -> None:
        self._stop.set()
        if self.source is not None:
            self.source.interrupt()
        for task in self._tasks:
            if task.get_name() != "face-camera":
                task.cancel()
        camera = [t for t in self._tasks if t.get_name() == "face-camera"]
        finished = True
        if camera:
            # The frame worker finishes its current frame (or camera backoff) and sees the stop.
            done, pending = await asyncio.wait(camera, timeout=15)
            for task in pending:
                task.cancel()
            finished = not pending
        if self.source is not None and finished:  # never release the capture under a reading thread
            await asyncio.to_thread(self.source.close)
