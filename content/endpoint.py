"""The runtime every endpoint (kiosk, VR hall, robot) stands on.

It follows the group's retained desired state, has the cache fetch and verify
the signed manifest and its media, switches atomically, and reports what it
applied. It keeps the last good manifest across restarts, so a screen plays
from cache while the broker or the admin is away. Alerts and device commands
arrive here too; the UI gets plain callbacks and never touches the network.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil

from broker.aio import new_event_loop
from broker.client import HallClient
from broker.messages import (
    ALL_GROUPS,
    AlertAck,
    CommandReply,
    DesiredState,
    DeviceCommand,
    DeviceError,
    EmergencyAlert,
    ReportedState,
    Telemetry,
)
from broker.settings import HallSettings
from content.cache import MediaCache
from content.clock import Deadline
from content.errors import ContentError
from content.http_get import HttpGetClient, HttpGetError, tls_context
from content.model import Manifest
from content.signing import load_public_key

log = logging.getLogger(__name__)

CommandHandler = Callable[[DeviceCommand], Awaitable[dict[str, Any]] | dict[str, Any]]
RETRY_DELAYS = (1, 2, 5, 10, 30, 60)


class EndpointError(RuntimeError):
    pass


class Endpoint:
    def __init__(
        self,
        settings: HallSettings,
        *,
        kind: str,
        device_id: str | None = None,
        groups: list[str] | None = None,
        on_manifest: Callable[[Manifest], Any] | None = None,
        on_alert: Callable[[EmergencyAlert | None], Any] | None = None,
        on_connection: Callable[[bool], Any] | None = None,
        telemetry: Callable[[], dict[str, Any]] | None = None,
        telemetry_interval: float = 10.0,
        durable_cache: bool = True,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.kind = kind
        self.device_id = device_id or settings.device_id
        if not self.device_id:
            raise EndpointError("没有设备编号：请用 --device-id 或 HALL_DEVICE_ID 指定")
        self.groups = list(groups or settings.groups or [])
        if not self.groups:
            raise EndpointError(f"设备 {self.device_id} 没有分组：请设置 HALL_GROUPS，例如 '[\"lobby\"]'")
        self.on_manifest = on_manifest
        self.on_alert = on_alert
        self.on_connection = on_connection
        self.telemetry_provider = telemetry
        self.telemetry_interval = telemetry_interval
        # Injectable so tests can set the device's clock; expiry runs on the monotonic one.
        self.wall_clock = wall_clock
        self.monotonic = monotonic
        self._alert_deadline: Deadline | None = None

        key_source = settings.public_key or str(settings.public_key_file)
        try:
            self.public_key = load_public_key(key_source)
        except Exception as exc:  # translated once, here, for operators
            raise EndpointError(f"无法读取清单公钥 {key_source}: {exc}") from exc

        self.dir = settings.device_dir(self.device_id)
        # durable_cache=False skips fsync: only for simulated fleets sharing one disk.
        ca = settings.http_ca_file
        try:
            verify = tls_context(str(ca)) if ca else None
        except (HttpGetError, OSError, ValueError) as exc:
            raise EndpointError(f"无法读取管理后台 HTTPS 的 CA 证书 {ca}: {exc}（检查 HALL_ADMIN_TLS_CA）") from exc
        self._http = HttpGetClient(timeout=30.0, ssl_context=verify)
        self.cache = MediaCache(self.dir / "cache", durable=durable_cache, http=self._http)
        self.client = HallClient(settings, client_id=self.device_id, kind=kind, groups=self.groups)
        self.manifest: Manifest | None = None
        self.alert: EmergencyAlert | None = None
        self.commands: dict[str, CommandHandler] = {"ping": lambda cmd: {"pong": time.time()},
                                                    "reload": self._reload}
        self._latest_desired: DesiredState | None = None
        self._shown_sha: str | None = None
        self._retry_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stop: asyncio.Event | None = None  # created in start(), inside the loop
        self._alerts_file = self.dir / "alerts.json"
        self._process = psutil.Process(os.getpid())

    @property
    def primary_group(self) -> str:
        """A device plays its first group's manifest; every group brings alerts and boards."""
        return self.groups[0]

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._stop = asyncio.Event()
        current = self.cache.load_current(self.public_key)
        if current is not None:
            # Applies collect only what they let go; leftovers of a crash or of a
            # failed apply (a full disk) are swept once here. (Not when nothing
            # loaded: the intact files of a damaged manifest save a download.)
            try:
                self.cache.gc()
            except OSError as exc:
                log.warning("%s: cache sweep failed: %s", self.device_id, exc)
            log.info("%s: playing last good manifest v%s from cache", self.device_id, current.version)
            await self._set_manifest(current)
        self._restore_alert()
        self.client.connection_listeners.append(self._connection_changed)
        self.client.subscribe(DesiredState, self._on_desired, group=self.primary_group)
        for group in dict.fromkeys([*self.groups, ALL_GROUPS]):
            self.client.subscribe(EmergencyAlert, self._on_alert_message, group=group)
        self.client.subscribe(DeviceCommand, self._on_command, device_id=self.device_id)
        await self.client.start()
        self._tasks.append(asyncio.create_task(self._telemetry_loop(), name="telemetry"))
        self._tasks.append(asyncio.create_task(self._alert_expiry_loop(), name="alert-expiry"))

    async def run(self) -> None:
        """Run until ``request_stop()`` or SIGTERM/SIGINT (when in the main thread)."""
        await self.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread: the owner stops us
        try:
            assert self._stop is not None
            await self._stop.wait()
        finally:
            await self.stop()

    def request_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def stop(self) -> None:
        for task in self._tasks + ([self._retry_task] if self._retry_task else []):
            task.cancel()
        await self.client.stop()
        await self._http.aclose()

    def media_path(self, sha256: str) -> Path | None:
        return self.cache.media_path(sha256)

    # -- desired state -----------------------------------------------------------------
    async def _on_desired(self, desired: DesiredState) -> None:
        # Apply even when the hash is the current one: the cache then only
        # re-fetches a media file found damaged and deleted since (cheap otherwise).
        self._latest_desired = desired
        await self._apply(desired)

    async def _apply(self, desired: DesiredState, attempt: int = 0) -> None:
        try:
            manifest = await self.cache.apply(desired, self.public_key)
        except ContentError as exc:
            log.error("%s: manifest v%s not applied, keeping v%s: %s", self.device_id, desired.version,
                      self.cache.current_version, exc)
            self._report("failed", error=str(exc))
            self.client.publish(DeviceError(site_id=self.settings.site_id, device_id=self.device_id,
                                            error=str(exc), context=f"apply v{desired.version}"))
            self._schedule_retry(desired, attempt)
            return
        if self.cache.current_sha256 != self._shown_sha:  # the UI hears of each manifest once
            await self._set_manifest(manifest)
        self._report("applied")

    def _schedule_retry(self, desired: DesiredState, attempt: int) -> None:
        # Transient faults (admin restarting, disk freed later) heal by themselves.
        delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]

        async def retry() -> None:
            await asyncio.sleep(delay)
            if self._latest_desired is desired and self.cache.current_sha256 != desired.manifest_sha256:
                await self._apply(desired, attempt + 1)

        if self._retry_task is not None:
            self._retry_task.cancel()
        self._retry_task = asyncio.create_task(retry(), name="apply-retry")

    async def _set_manifest(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._shown_sha = self.cache.current_sha256
        if self.on_manifest is not None:
            try:
                result = self.on_manifest(manifest)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("on_manifest callback failed; the manifest stays applied")

    def _report(self, status: str, error: str | None = None) -> None:
        self.client.publish(ReportedState(
            site_id=self.settings.site_id, device_id=self.device_id, kind=self.kind, group=self.primary_group,
            applied_version=self.cache.current_version, applied_sha256=self.cache.current_sha256,
            status=status if (status != "applied" or self.cache.current_sha256) else "empty", error=error))

    async def _reload(self, command: DeviceCommand) -> dict[str, Any]:
        if self._latest_desired is not None:
            await self._apply(self._latest_desired)
        return {"applied_version": self.cache.current_version}

    def _connection_changed(self, up: bool) -> None:
        if up:
            self._report("applied")
        if self.on_connection is not None:
            self.on_connection(up)

    # -- alerts --------------------------------------------------------------------------
    async def _on_alert_message(self, alert: EmergencyAlert) -> None:
        if alert.active(self.wall_clock()):
            if self.alert is None or self.alert.alert_id != alert.alert_id:
                self._set_alert(alert)
                self.client.publish(AlertAck(site_id=self.settings.site_id, device_id=self.device_id,
                                             alert_id=alert.alert_id, state="shown"))
        elif self.alert is not None and self.alert.alert_id == alert.alert_id:
            self._set_alert(None)
            self.client.publish(AlertAck(site_id=self.settings.site_id, device_id=self.device_id,
                                         alert_id=alert.alert_id, state="cleared"))

    def _set_alert(self, alert: EmergencyAlert | None) -> None:
        self.alert = alert
        self._alert_deadline = (Deadline.from_wall(alert.expires_at, wall_now=self.wall_clock(),
                                                   monotonic_now=self.monotonic())
                                if alert is not None and alert.expires_at is not None else None)
        try:
            if alert is None:
                self._alerts_file.unlink(missing_ok=True)
            else:
                self._alerts_file.parent.mkdir(parents=True, exist_ok=True)
                self._alerts_file.write_text(alert.model_dump_json(), encoding="utf-8")
        except OSError as exc:
            log.warning("could not persist alert state: %s", exc)
        if self.on_alert is not None:
            try:
                self.on_alert(alert)
            except Exception:
                log.exception("on_alert callback failed")

    def _restore_alert(self) -> None:
        # A takeover must survive a restart while the alert is still valid,
        # even when the broker is not reachable yet.
        try:
            alert = EmergencyAlert.model_validate_json(self._alerts_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if alert.active(self.wall_clock()):
            self._set_alert(alert)

    def alert_expired(self) -> bool:
        """The shown alert's time is up, counted on the monotonic clock since it arrived."""
        return self._alert_deadline is not None and self._alert_deadline.passed(self.monotonic())

    async def _alert_expiry_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.alert is not None and self.alert_expired():
                expired = self.alert
                self._set_alert(None)
                self.client.publish(AlertAck(site_id=self.settings.site_id, device_id=self.device_id,
                                             alert_id=expired.alert_id, state="cleared"))

    # -- commands ------------------------------------------------------------------------
    async def _on_command(self, command: DeviceCommand):
        reply = dict(site_id=self.settings.site_id, device_id=self.device_id, request_id=command.request_id)
        if command.expired():
            yield CommandReply(**reply, ok=False, error="命令已过期，未执行")
            return
        handler = self.commands.get(command.command)
        if handler is None:
            yield CommandReply(**reply, ok=False, error=f"此设备不支持命令 {command.command}")
            return
        try:
            result = handler(command)
            if asyncio.iscoroutine(result):
                result = await result
            yield CommandReply(**reply, ok=True, result=result or {})
        except Exception as exc:
            log.exception("command %s failed", command.command)
            yield CommandReply(**reply, ok=False, error=f"命令执行失败: {exc}")

    # -- telemetry -------------------------------------------------------------------------
    async def _telemetry_loop(self) -> None:
        self._process.cpu_percent(None)
        while True:
            await asyncio.sleep(self.telemetry_interval)
            extra = {}
            if self.telemetry_provider is not None:
                try:
                    extra = self.telemetry_provider() or {}
                except Exception:
                    log.exception("telemetry provider failed")
            self.client.publish(Telemetry(
                site_id=self.settings.site_id, device_id=self.device_id, kind=self.kind,
                cpu_percent=self._process.cpu_percent(None), rss_mb=self._process.memory_info().rss / 2**20,
                applied_version=self.cache.current_version, **extra))


class EndpointThread:
    """Runs an Endpoint's asyncio loop in a daemon thread, for UIs (pygame,
    Panda3D) that own the main thread. Callbacks run in that thread: post
    them to the UI's own event queue."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self._main, name=f"endpoint-{endpoint.device_id}", daemon=True)
        self._started = threading.Event()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.endpoint.start())
        self._started.set()
        self.loop.run_forever()

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        self._started.wait(timeout)

    def call(self, coro: Awaitable[Any], timeout: float | None = None) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout) if timeout is not None else future

    def stop(self) -> None:
        if not self.loop.is_running():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.endpoint.stop(), self.loop).result(5)
        except Exception:
            log.exception("endpoint stop failed")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

