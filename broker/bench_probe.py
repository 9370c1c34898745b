"""Broker-side fan-out probe for `hall bench push`.

A handful of bare MQTT 3.1.1 subscribers on raw sockets in one process, no
paho, no pydantic: they subscribe to the bench group's desired state *after*
every simulated endpoint has, so they sit at the end of the broker's delivery
list. The time from the publish call until the last probe has the message is
what the broker itself needs to fan a publish out to the whole fleet; the gap
between that and publish → applied is the simulated endpoints' own CPU time.

Prints one JSON line per live (non-retained) publish:
``{"version": v, "first": t, "last": t}`` on ``time.monotonic()``, which is
one clock for every process on the machine.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import time

from .messages import DesiredState


def _utf8(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def connect_packet(client_id: str) -> bytes:
    # protocol "MQTT" level 4, clean session, keep-alive 0 (no pings needed)
    body = _utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 0) + _utf8(client_id)
    return b"\x10" + _varint(len(body)) + body


def subscribe_packet(packet_id: int, topic_filter: str) -> bytes:
    body = struct.pack("!H", packet_id) + _utf8(topic_filter) + b"\x00"
    return b"\x82" + _varint(len(body)) + body


async def read_packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    while True:
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first, await reader.readexactly(length)


def publish_version(first: int, body: bytes) -> int | None:
    """The version of a live desired-state PUBLISH (QoS 0), None otherwise."""
    if first >> 4 != 3 or first & 0x01:  # not a PUBLISH, or a retained copy
        return None
    (topic_len,) = struct.unpack_from("!H", body)
    try:
        return int(json.loads(body[2 + topic_len:])["version"])
    except (ValueError, KeyError, TypeError):
        return None


async def probe(port: int, group: str, count: int) -> None:
    topic = DesiredState.subscription(group=group)
    arrivals: dict[int, list[float]] = {}

    async def one(i: int, ready: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(connect_packet(f"bench-probe-{i}"))
        if (await read_packet(reader))[0] >> 4 != 2:
            raise RuntimeError("no CONNACK")
        writer.write(subscribe_packet(1, topic))
        while (await read_packet(reader))[0] >> 4 != 9:  # skip until SUBACK
            pass
        ready.set()
        while True:
            first, body = await read_packet(reader)
            version = publish_version(first, body)
            if version is None:
                continue
            times = arrivals.setdefault(version, [])
            times.append(time.monotonic())
            if len(times) == count:
                print(json.dumps({"version": version, "first": min(times), "last": max(times)}), flush=True)

    readies = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.create_task(one(i, readies[i])) for i in range(count)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    print(json.dumps({"ready": count}), flush=True)
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(probe(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
