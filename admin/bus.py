"""The admin on MQTT: subscribes to the fleet's messages and hands each to
``admin.events`` in a worker thread (database writes must not block the event
loop), then publishes the replies. Telemetry is coalesced and written once a
second (``admin.telemetry_batch``). Re-sends what must survive a broker restart
(active alerts) every time the connection comes back."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from sqlalchemy import select, update

from admin import events
from admin.context import AdminContext
from admin.telemetry_batch import FLUSH_INTERVAL_S, LatestTelemetry, store_batch
from admin.models import Alert, DeviceGroup
from broker import messages as m

log = logging.getLogger(__name__)


class FleetBus:
    def __init__(self, ctx: AdminContext) -> None:
        from broker.client import HallClient

        self.ctx = ctx
        settings = ctx.settings
        self.client = HallClient(settings, client_id=settings.mqtt_username or "admin", kind="admin")
        self.client.connection_listeners.append(self._on_connection)
        self.telemetry = LatestTelemetry()
        self._flusher: asyncio.Task | None = None
        site = settings.site_id
        self.client.subscribe(m.Telemetry, self._on_telemetry)
        routes: list[tuple[type[m.Message], Any]] = [
            (m.Availability, events.on_availability),
            (m.ReportedState, events.on_reported),
            (m.CommandReply, events.on_command_reply),
            (m.AlertAck, events.on_alert_ack),
            (m.CheckIn, partial(events.on_checkin, site_id=site)),
            (m.LearningPoints, partial(events.on_points, site_id=site, pin_guard=ctx.extras.get("pin_guard"))),
            (m.ExhibitView, events.on_exhibit_view),
            (m.ProofOfPlay, partial(events.on_play, site_id=site)),
            (m.DeviceError, events.on_device_error),
        ]
        for cls, handler in routes:
            self.client.subscribe(cls, self._handler(handler))

    def _handler(self, handler):  # noqa: ANN001, ANN202
        async def handle(message: m.Message) -> None:
            replies = await asyncio.to_thread(self._store, handler, message)
            for reply in replies:
                self.client.publish(reply)

        handle.__name__ = getattr(handler, "__name__", getattr(getattr(handler, "func", None), "__name__", "handler"))
        return handle

    def _store(self, handler, message: m.Message) -> list[m.Message]:  # noqa: ANN001
        with self.ctx.sessions() as session:
            return events.store(session, handler, message)

    @property
    def connected(self) -> bool:
        return self.client.connected

    def publish(self, message: m.Message) -> bool:
        if not self.client.connected:
            return False
        self.client.publish(message)
        return True

    async def _on_telemetry(self, message: m.Telemetry) -> None:
        self.telemetry.add(message)

    async def _flush_telemetry(self) -> None:
        batch = self.telemetry.drain()
        if batch:
            try:
                await asyncio.to_thread(store_batch, self.ctx.sessions, batch)
            except Exception:  # noqa: BLE001 (a locked or failing database must not end the loop)
                log.exception("telemetry batch of %d devices not stored; newer samples will follow", len(batch))

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            await self._flush_telemetry()

    async def start(self) -> None:
        await self.client.start()
        self._flusher = asyncio.create_task(self._flush_forever(), name="telemetry-flush")

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
            self._flusher = None
        await self._flush_telemetry()
        await self.client.stop()

    def _on_connection(self, up: bool) -> None:
        if not up:
            return
        # Runs on the event loop: keep it short, do the database work in a thread.
        asyncio.get_running_loop().run_in_executor(None, self._resend_after_connect)

    def _resend_after_connect(self) -> None:
        from admin.alerts import alert_messages

        with self.ctx.sessions() as session:
            for alert in session.scalars(select(Alert).where(Alert.status == "sent")):
                for message in alert_messages(alert, site_id=self.ctx.settings.site_id):
                    if message.active():
                        self.client.publish(message)
            # The publisher re-sends every group's desired state on connect itself.
            session.execute(update(DeviceGroup).values(publish_pending=False))
            session.commit()
