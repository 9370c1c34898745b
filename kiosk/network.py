"""The kiosk's link to the hall: an Endpoint (content.endpoint) in a
background thread with its own asyncio loop.

Everything that arrives is posted to the UI as a custom pygame event; the UI's
requests (messages to publish, command results) come back through the
thread-safe ``HallClient.publish`` and futures. Drawing code never sees this.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from broker.messages import (
    AttendanceBoard,
    CheckIn,
    DeviceCommand,
    DialogueTurn,
    EmergencyAlert,
    Message,
    PointsAck,
    ProofOfPlay,
    ProofOfPlayAck,
)
from broker.settings import HallSettings
from content.endpoint import Endpoint, EndpointThread

from . import events
from .commands import CommandRequest
from .outbox import PointsOutbox
from .playlog import PlayLog
from .state import ShownAlert

log = logging.getLogger(__name__)

UI_TIMEOUT_S = 10.0


def screenshot_url(admin_url: str, device_id: str) -> str:
    return f"{admin_url.rstrip('/')}/api/devices/{device_id}/screenshot"


class KioskLink:
    def __init__(self, settings: HallSettings, *, device_id: str, groups: list[str], playlog: PlayLog,
                 outbox: PointsOutbox | None = None, telemetry=None, proof_interval: float = 30.0, telemetry_interval: float = 10.0,
                 wall_clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.device_id = device_id
        self.playlog = playlog
        self.outbox = outbox
        self.proof_interval = proof_interval
        self.endpoint = Endpoint(
            settings, kind="kiosk", device_id=device_id, groups=groups,
            on_manifest=lambda manifest: events.post(events.MANIFEST_APPLIED, manifest),
            on_alert=self._alert,
            on_connection=self._connection,
            telemetry=telemetry, telemetry_interval=telemetry_interval,
            wall_clock=wall_clock, monotonic=monotonic,
        )
        client = self.endpoint.client
        client.subscribe(DialogueTurn, self._post(events.DIALOGUE), robot_id="+")
        for group in self.endpoint.groups:
            client.subscribe(AttendanceBoard, self._post(events.ATTENDANCE), group=group, meeting_id="+")
        # Check-ins by other devices feed the live board between admin updates
        # (the broker's ACL may refuse this; the AttendanceBoard alone suffices).
        client.subscribe(CheckIn, self._post(events.ATTENDANCE), device_id="+")
        client.subscribe(PointsAck, self._post(events.POINTS_RESULT), device_id=device_id)
        client.subscribe(ProofOfPlayAck, self._proof_ack, device_id=device_id)
        commands = self.endpoint.commands
        inner_reload = commands["reload"]

        async def reload(command: DeviceCommand) -> dict[str, Any]:
            result = await inner_reload(command)
            result.update(await self._ask_ui(command))
            return result

        commands["reload"] = reload
        commands["screenshot"] = self._screenshot
        commands["show_item"] = self._ask_ui
        commands["restart"] = self._ask_ui
        self.thread = EndpointThread(self.endpoint)
        self._proof_task: asyncio.Future | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()
        self._proof_task = self.thread.call(self._proof_loop())

    def stop(self) -> None:
        if self._proof_task is not None:
            self._proof_task.cancel()
        self.thread.stop()

    @property
    def online(self) -> bool:
        return self.endpoint.client.connected

    def media_path(self, sha256: str):
        return self.endpoint.media_path(sha256)

    def publish(self, message: Message) -> None:
        """Thread-safe; QoS-1 messages wait in the client's queue while offline."""
        self.endpoint.client.publish(message)

    # -- incoming ----------------------------------------------------------------------
    @staticmethod
    def _post(event_type: int):
        async def handler(message: Message) -> None:
            events.post(event_type, message)

        return handler

    def _alert(self, alert: EmergencyAlert | None) -> None:
        # Called by the Endpoint right after it set its own deadline for this
        # alert; the same clocks at the same moment give the UI the same one.
        # (UI and Endpoint must share the monotonic clock: cli wires it.)
        endpoint = self.endpoint
        shown = (ShownAlert.arrived(alert, wall_now=endpoint.wall_clock(), monotonic_now=endpoint.monotonic())
                 if alert is not None else None)
        events.post(events.ALERT_CHANGED, shown)

    def _connection(self, up: bool) -> None:
        events.post(events.CONNECTION, up)
        if up and self.thread.loop.is_running():
            # Send what piled up on disk while offline.
            self.thread.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._send_proof()))
            self.thread.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._resend_points()))

    async def _resend_points(self) -> int:
        if self.outbox is None:
            return 0
        pending = await asyncio.to_thread(self.outbox.pending)
        for message in pending:
            self.publish(message)
        return len(pending)

    async def _proof_ack(self, ack: ProofOfPlayAck) -> None:
        if self.playlog.ack(ack.batch_id):
            log.info("proof of play batch %s acknowledged", ack.batch_id)

    # -- proof of play -----------------------------------------------------------------
    async def _proof_loop(self) -> None:
        while True:
            await asyncio.sleep(self.proof_interval)
            await self._send_proof()

    async def _send_proof(self) -> int:
        await asyncio.to_thread(self.playlog.seal)
        if not self.endpoint.client.connected:
            return 0
        batches = await asyncio.to_thread(self.playlog.batches)
        for batch_id, records in batches:
            self.publish(ProofOfPlay(site_id=self.settings.site_id, device_id=self.device_id, batch_id=batch_id,
                                     records=records))
        return len(batches)

    # -- commands ----------------------------------------------------------------------
    async def _ask_ui(self, command: DeviceCommand) -> dict[str, Any]:
        request = CommandRequest(command.command, dict(command.args))
        if not events.post(events.COMMAND, request):
            raise RuntimeError("界面未运行")
        return await asyncio.wait_for(asyncio.wrap_future(request.future), UI_TIMEOUT_S)

    async def _screenshot(self, command: DeviceCommand) -> dict[str, Any]:
        result = await self._ask_ui(command)
        png: bytes = result.pop("png")
        url = screenshot_url(self.settings.admin_url, self.device_id)
        # The admin authenticates device uploads with the device's MQTT account (HTTP Basic).
        auth = None
        if self.settings.mqtt_password:
            auth = (self.settings.mqtt_username or self.device_id, self.settings.mqtt_password)
        async with httpx.AsyncClient(timeout=10.0, auth=auth) as http:
            response = await http.post(url, content=png, headers={"Content-Type": "image/png",
                                                                   "X-Request-Id": command.request_id})
            response.raise_for_status()
        uploaded = {}
        if response.headers.get("content-type", "").startswith("application/json"):
            uploaded = {k: v for k, v in response.json().items() if k in ("sha256", "url")}
        return {**result, **uploaded, "bytes": len(png), "uploaded_to": url}
