"""The MQTT client base every process uses.

paho-mqtt runs its network loop in its own thread; its callbacks only hand
messages over to the asyncio loop, where typed handlers run. A handler that
raises is logged and the loop goes on; a malformed payload is logged and
dropped. paho reconnects with backoff by itself; we resubscribe and re-announce
availability on every (re)connect.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .messages import Availability, Message, MessageError
from .settings import HallSettings

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None] | AsyncIterator[Message] | None]


@dataclass
class _Subscription:
    cls: type[Message]
    topic_filter: str
    handler: Handler


class HallClient:
    def __init__(
        self,
        settings: HallSettings,
        *,
        client_id: str,
        kind: str,
        groups: list[str] | tuple[str, ...] = (),
        availability: bool = True,
        reconnect_min: float = 0.5,
        reconnect_max: float = 30.0,
        network: str | None = None,
    ) -> None:
        """``network="thread"``: paho's own network thread (every process's
        default; ``publish`` may be called from any thread). ``"asyncio"``: the
        socket is driven by this event loop instead, no thread at all, for
        processes that run hundreds of clients (the fleet simulator); there,
        publish from the loop's own thread."""
        self.settings = settings
        self.client_id = client_id
        self.kind = kind
        self.groups = list(groups)
        self._availability = availability
        network = network or settings.mqtt_network
        if network not in ("thread", "asyncio"):
            raise ValueError(f"network must be 'thread' or 'asyncio', not {network!r}")
        self._network = network
        self._reconnect = (max(0.1, reconnect_min), max(reconnect_min, reconnect_max))
        self._io_task: asyncio.Task[None] | None = None
        self._subs: list[_Subscription] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, bytes]] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._connected = threading.Event()
        self._stopping = False
        # SUBSCRIBE message ids not yet acknowledged: "ready" means connected
        # and every subscription in force, so nothing published after it is missed.
        self._unacked_subs: set[int] = set()
        self._subs_lock = threading.RLock()
        self._connected_async: asyncio.Event | None = None
        self.connection_listeners: list[Callable[[bool], Any]] = []
        self.stats = {"received": 0, "dropped": 0, "handler_errors": 0, "connects": 0}

        paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                           clean_session=True)
        if settings.mqtt_username:
            paho.username_pw_set(settings.mqtt_username, settings.mqtt_password)
        if settings.mqtt_tls_ca:
            paho.tls_set(ca_certs=str(settings.mqtt_tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if availability:
            offline = self._availability_message("offline")
            paho.will_set(offline.own_topic(), offline.payload(), qos=1, retain=True)
        paho.reconnect_delay_set(min_delay=max(1, int(reconnect_min)), max_delay=int(reconnect_max))
        paho.max_queued_messages_set(0)  # unbounded: the fleet bursts after a publish
        paho.max_inflight_messages_set(100)
        paho.on_connect = self._on_connect
        paho.on_disconnect = self._on_disconnect
        paho.on_message = self._on_message
        paho.on_socket_open = self._on_socket_open
        paho.on_subscribe = self._on_subscribe
        self._paho = paho

    # -- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        """Connect in the background; returns at once even if the broker is down."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._connected_async = asyncio.Event()
        self._dispatcher = asyncio.create_task(self._dispatch(), name=f"mqtt-dispatch-{self.client_id}")
        self._paho.connect_async(self.settings.mqtt_host, self.settings.mqtt_port,
                                 keepalive=self.settings.mqtt_keepalive)
        if self._network == "asyncio":
            self._install_loop_io()
            self._io_task = asyncio.create_task(self._loop_io(), name=f"mqtt-io-{self.client_id}")
        else:
            self._paho.loop_start()

    async def stop(self) -> None:
        self._stopping = True
        if self._availability and self._connected.is_set():
            info = self.publish(self._availability_message("offline"))
            await asyncio.to_thread(_wait_published, info, 2.0)
        self._paho.disconnect()
        if self._io_task is not None:
            await asyncio.sleep(0.05)  # let the loop write the DISCONNECT
            self._io_task.cancel()
            sock = self._paho.socket()
            if sock is not None:
                self._drop_fd(sock.fileno())
        else:
            self._paho.loop_stop()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            try:
                await self._dispatcher
            except asyncio.CancelledError:
                pass

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until connected with every subscription acknowledged by the broker."""
        assert self._connected_async is not None, "start() first"
        try:
            await asyncio.wait_for(self._connected_async.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    # -- subscribe / publish ------------------------------------------------------
    def subscribe(self, cls: type[Message], handler: Handler, **topic_args: str) -> str:
        topic_filter = cls.subscription(**topic_args)
        self._subs.append(_Subscription(cls, topic_filter, handler))
        if self.connected:
            self._subscribe(self._paho, topic_filter, cls.QOS)
        return topic_filter

    def _subscribe(self, client: mqtt.Client, topic_filter: str, qos: int) -> None:
        with self._subs_lock:
            result, mid = client.subscribe(topic_filter, qos=qos)
            if result == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                self._unacked_subs.add(mid)

    def publish(self, message: Message, *, retain: bool | None = None, qos: int | None = None) -> mqtt.MQTTMessageInfo:
        """Thread-safe. While disconnected, QoS>0 messages wait in paho's queue."""
        return self._paho.publish(message.own_topic(), message.payload(),
                                  qos=message.QOS if qos is None else qos,
                                  retain=message.RETAIN if retain is None else retain)

    async def publish_wait(self, message: Message, timeout: float = 5.0, **kw: Any) -> bool:
        info = self.publish(message, **kw)
        return await asyncio.to_thread(_wait_published, info, timeout)

    def clear_retained(self, cls: type[Message], **topic_args: str) -> None:
        self._paho.publish(cls.topic(**topic_args), b"", qos=1, retain=True)

    # -- network on the event loop (network="asyncio") ----------------------------
    # paho's external-loop API: it tells us when its socket opens, closes and
    # has something to write; we watch the socket with the loop's selector.
    # Callbacks may come from a worker thread (reconnect runs in one), so every
    # selector change goes through call_soon_threadsafe, in order.
    def _install_loop_io(self) -> None:
        paho = self._paho

        def opened(client: mqtt.Client, userdata: Any, sock: Any) -> None:
            self._on_socket_open(client, userdata, sock)
            self._to_loop(self._watch_fd, sock.fileno())

        def closed(client: mqtt.Client, userdata: Any, sock: Any) -> None:
            self._to_loop(self._drop_fd, sock.fileno())

        def want_write(client: mqtt.Client, userdata: Any, sock: Any) -> None:
            self._to_loop(self._write_fd, sock.fileno(), True)

        def written(client: mqtt.Client, userdata: Any, sock: Any) -> None:
            self._to_loop(self._write_fd, sock.fileno(), False)

        paho.on_socket_open = opened
        paho.on_socket_close = closed
        paho.on_socket_register_write = want_write
        paho.on_socket_unregister_write = written

    def _watch_fd(self, fd: int) -> None:
        assert self._loop is not None
        self._add(self._loop.add_reader, fd, self._paho.loop_read, 16)

    def _add(self, add, fd: int, *callback: Any) -> None:
        """Register with the selector. uvloop keeps a poll handle per fd, and
        when paho closed a socket before its removal ran, the handle stays
        behind, closed; the next socket, given the same fd number, is then
        refused ("the handler is closed") and the client would sit deaf or
        mute. Dropping the stale handle and registering again fixes that."""
        assert self._loop is not None
        try:
            add(fd, *callback)
        except RuntimeError:
            self._drop_fd(fd)
            add(fd, *callback)

    def _drop_fd(self, fd: int) -> None:
        assert self._loop is not None
        if fd >= 0:
            for remove in (self._loop.remove_reader, self._loop.remove_writer):
                try:
                    remove(fd)
                except (OSError, ValueError, RuntimeError):
                    pass  # closed before this ran: the selector forgot it already

    def _write_fd(self, fd: int, on: bool) -> None:
        assert self._loop is not None
        if fd < 0:
            return
        try:
            if on:
                self._add(self._loop.add_writer, fd, self._paho.loop_write)
            else:
                self._loop.remove_writer(fd)
        except (OSError, ValueError, RuntimeError):
            pass  # the socket closed meanwhile; a reconnect registers the new one

    async def _loop_io(self) -> None:
        """Connect, reconnect with backoff, and keep-alive: what paho's thread does."""
        delay = self._reconnect[0]
        while not self._stopping:
            if self._paho.socket() is None:
                try:
                    # a blocking connect (bounded by paho's connect timeout) off the loop
                    await asyncio.to_thread(self._paho.reconnect)
                    delay = self._reconnect[0]
                except (OSError, ValueError) as exc:
                    log.debug("MQTT %s: connect failed (%s); retrying in %.1f s", self.client_id, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._reconnect[1])
                    continue
            else:
                if self._paho.want_write():  # a publish from another thread may have raced the writer off
                    self._write_fd(self._paho.socket().fileno(), True)
                self._paho.loop_misc()
            await asyncio.sleep(1.0)

    # -- paho callbacks (paho's thread) -------------------------------------------
    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # paho leaves Nagle on: every QoS-1 round trip to amqtt then waits ~40 ms.
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.error("MQTT %s: broker refused connection: %s", self.client_id, reason)
            return
        self.stats["connects"] += 1
        with self._subs_lock:
            self._unacked_subs.clear()
            for sub in self._subs:
                self._subscribe(client, sub.topic_filter, sub.cls.QOS)
            pending = bool(self._unacked_subs)
        if self._availability:
            self.publish(self._availability_message("online"))
        self._connected.set()
        if not pending:
            self._to_loop(self._set_connected, True)
        log.info("MQTT %s connected to %s:%s", self.client_id, self.settings.mqtt_host, self.settings.mqtt_port)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        for reason in reasons or []:
            if getattr(reason, "is_failure", False):
                log.error("MQTT %s: subscription refused by the broker (%s); check this device's ACL",
                          self.client_id, reason)
        with self._subs_lock:
            self._unacked_subs.discard(mid)
            ready = not self._unacked_subs
        if ready and self._connected.is_set():
            self._to_loop(self._set_connected, True)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        self._to_loop(self._set_connected, False)
        if was and not self._stopping:
            log.warning("MQTT %s disconnected (%s); reconnecting with backoff", self.client_id, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._to_loop(self._enqueue, msg.topic, bytes(msg.payload))

    def _to_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # loop closing during shutdown
                pass

    # -- asyncio side ---------------------------------------------------------------
    def _enqueue(self, topic: str, payload: bytes) -> None:
        assert self._queue is not None
        self._queue.put_nowait((topic, payload))

    def _set_connected(self, value: bool) -> None:
        assert self._connected_async is not None
        if value:
            self._connected_async.set()
        else:
            self._connected_async.clear()
        for listener in list(self.connection_listeners):
            try:
                listener(value)
            except Exception:  # a listener must not break the client
                log.exception("connection listener failed")

    async def _dispatch(self) -> None:
        assert self._queue is not None
        while True:
            topic, payload = await self._queue.get()
            self.stats["received"] += 1
            if not payload:
                continue  # a cleared retained message
            for sub in self._subs:
                if not (mqtt.topic_matches_sub(sub.topic_filter, topic) and sub.cls.is_topic(topic)):
                    continue
                try:
                    message = sub.cls.from_json(payload, topic=topic)
                except MessageError as exc:
                    self.stats["dropped"] += 1
                    log.warning("dropped malformed message: %s", exc)
                    continue
                await self._run_handler(sub, message)

    async def _run_handler(self, sub: _Subscription, message: Message) -> None:
        try:
            result = sub.handler(message)
            if inspect.isasyncgen(result):
                async for reply in result:
                    self.publish(reply)
            elif inspect.isawaitable(result):
                await result
        except Exception:
            self.stats["handler_errors"] += 1
            log.exception("handler %s failed on %s; continuing", getattr(sub.handler, "__name__", sub.handler),
                          message.own_topic())

    def _availability_message(self, state: str) -> Availability:
        return Availability(site_id=self.settings.site_id, device_id=self.client_id,
                            kind=self.kind if self.kind in _KINDS else "bench", state=state, groups=self.groups)


_KINDS = {"kiosk", "vrhall", "robot", "admin", "broker", "bench"}


def _wait_published(info: mqtt.MQTTMessageInfo, timeout: float) -> bool:
    try:
        info.wait_for_publish(timeout)
    except (RuntimeError, ValueError):
        return False
    return info.is_published()
