"""`hall bench admin`: p50/p99 latency of the device list and the content list
at a fixed request rate, with 10,000 items and 1,000 devices in SQLite.

The admin runs in its own process (uvicorn, one worker, as deployed); the load
generator here is open-loop: requests are started on a fixed schedule whatever
the server's speed, and latency is measured from the scheduled start, so a
slow server cannot hide its queueing (no coordinated omission).

The lists are served from the admin's list cache (``admin.listcache``), so a
read-only run measures cache hits. ``write_every_ms`` adds a writer process
that stores a device's telemetry through ``admin.events`` (as the MQTT bridge
does) every so many milliseconds while the lists are read: every commit
invalidates the cached lists, so the run mixes hits with rebuilds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import multiprocessing
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ENDPOINTS = {"devices": "/api/devices?limit=50", "items": "/api/items?limit=50"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def populate(settings: Any, *, items: int, devices: int) -> str:
    """Fill a fresh database; returns an API token of an admin user."""
    from admin.app import build_context
    from admin.crud import users as crud_users
    from admin.crud.items import content_hash
    from admin.models import Device, Item, ItemVersion, User
    from admin.security import hash_password

    ctx = build_context(settings)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with ctx.sessions() as session:
        user = User(name="bench", role="admin", display_name="压测", password_hash=hash_password("bench-password"))
        session.add(user)
        session.flush()
        token, _ = crud_users.issue_token(session, user=user, kind="api", max_age_s=24 * 3600)
        for start in range(0, items, 1000):
            batch_items, batch_versions = [], []
            for n in range(start, min(items, start + 1000)):
                data = {"kind": "news", "id": f"news-{n:05d}", "title": f"党情速递第 {n} 期", "summary": "压测数据",
                        "body": "正文" * 50, "important": False, "tags": [], "images": []}
                batch_items.append(Item(id=data["id"], kind="news", title=data["title"], status="published",
                                        updated_at=now - dt.timedelta(seconds=n), created_by=user.id))
                batch_versions.append(ItemVersion(id=n + 1, item_id=data["id"], number=1, data=data,
                                                  sha256=content_hash(data), status="published", author_id=user.id))
            session.add_all(batch_items)
            session.flush()
            session.add_all(batch_versions)
            session.flush()
            for it, ver in zip(batch_items, batch_versions):
                it.head_version_id = it.live_version_id = ver.id
        kinds = ("kiosk", "vrhall", "robot")
        for n in range(devices):
            kind = kinds[n % 3]
            session.add(Device(id=f"{kind}-{n:04d}", kind=kind, groups=[{"kiosk": "lobby", "vrhall": "hall",
                                                                         "robot": "robots"}[kind]],
                               online=n % 10 != 0, last_seen=now, applied_version=1, reported_status="applied",
                               telemetry={"fps": 60.0, "cpu_percent": 2.0, "rss_mb": 150.0}))
        session.commit()
    ctx.engine.dispose()
    return token


def _serve(data_dir: str, port: int) -> None:
    """One server process. Several of them share the port (SO_REUSEPORT) and
    the kernel spreads connections over them, as uvicorn --workers would."""
    import logging

    import uvicorn

    from admin.app import create_app
    from admin.settings import AdminSettings
    from admin.startup import freeze_startup_objects

    logging.basicConfig(level=logging.WARNING)
    settings = AdminSettings(_env_file=None, data_dir=Path(data_dir), mqtt_enabled=False,
                             admin_url=f"http://127.0.0.1:{port}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False)
    freeze_startup_objects()
    uvicorn.Server(config).run(sockets=[sock])


def _cpu_s(pids: list[int]) -> float | None:
    """User+system CPU seconds of the server processes (Linux /proc), so a run
    reports server CPU per request, which a busy shared machine distorts far
    less than latency."""
    total = 0.0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


def _write(data_dir: str, every_ms: float, devices: int, ready: Any, stop: Any, count: Any,
           batched: bool = True) -> None:
    """The writer process: one device's telemetry every ``every_ms``, stored
    the way the MQTT bridge stores it: coalesced, one transaction a second
    (``admin.telemetry_batch``); ``batched=False`` commits every message (the
    bridge before batching), for comparison."""
    from admin import events
    from admin.app import build_context
    from admin.settings import AdminSettings
    from admin.telemetry_batch import FLUSH_INTERVAL_S, LatestTelemetry, store_batch
    from broker import messages as m

    settings = AdminSettings(_env_file=None, data_dir=Path(data_dir), mqtt_enabled=False)
    ctx = build_context(settings)
    kiosks = max(1, (devices + 2) // 3)  # populate() names every third device kiosk-NNNN
    pending = LatestTelemetry()
    ready.set()
    due = next_flush = time.perf_counter()
    n = 0
    while not stop.is_set():
        message = m.Telemetry(site_id=settings.site_id, device_id=f"kiosk-{(n % kiosks) * 3:04d}", kind="kiosk",
                              fps=50.0 + n % 10, cpu_percent=2.0, rss_mb=150.0)
        if batched:
            pending.add(message)
            if time.perf_counter() >= next_flush:
                store_batch(ctx.sessions, pending.drain())
                next_flush += FLUSH_INTERVAL_S
        else:
            with ctx.sessions() as session:
                events.store(session, events.on_telemetry, message)
        n += 1
        count.value = n
        due += every_ms / 1000
        time.sleep(max(0.0, due - time.perf_counter()))
    store_batch(ctx.sessions, pending.drain())
    ctx.engine.dispose()


class _Connection:
    """One keep-alive HTTP/1.1 connection: a raw client costs the load
    generator far less CPU than a full HTTP library on a shared machine."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status


async def _load(port: int, path: str, token: str, rate: int, seconds: float, connections: int) -> dict[str, Any]:
    # This process filled the database and holds all it imported: a full
    # collection of that during the run pauses the schedule for 50-200 ms, a
    # delay of the load generator that would be counted against the server.
    gc.collect()
    gc.freeze()
    try:
        return await _run_load(port, path, token, rate, seconds, connections)
    finally:
        gc.unfreeze()


async def _run_load(port: int, path: str, token: str, rate: int, seconds: float,
                    connections: int) -> dict[str, Any]:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(_Connection(*await asyncio.open_connection("127.0.0.1", port)))
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            status = await asyncio.wait_for(conn.get(request), 30)
            if status != 200:
                errors += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            errors += 1
            conn = _Connection(*await asyncio.open_connection("127.0.0.1", port))
        finally:
            pool.put_nowait(conn)
        latencies.append((time.perf_counter() - scheduled) * 1000)

    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks = []
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().writer.close()
    latencies.sort()
    return {"requests": total, "errors": errors, "achieved_rps": total / elapsed,
            "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max_ms": latencies[-1]}


def run_admin_bench(*, items: int = 10_000, devices: int = 1_000, rate: int = 500, seconds: float = 10.0,
                    connections: int = 64, workers: int = 1, write_every_ms: float = 0,
                    batched_writes: bool = True) -> dict[str, Any]:
    from admin.settings import AdminSettings

    with tempfile.TemporaryDirectory(prefix="hall-bench-admin-") as tmp:
        settings = AdminSettings(_env_file=None, data_dir=Path(tmp), mqtt_enabled=False)
        t0 = time.perf_counter()
        token = populate(settings, items=items, devices=devices)
        populate_s = time.perf_counter() - t0
        port = _free_port()
        spawn = multiprocessing.get_context("spawn")
        servers = [spawn.Process(target=_serve, args=(tmp, port), daemon=True) for _ in range(max(1, workers))]
        for server in servers:
            server.start()
        writer = None
        stop, count = spawn.Event(), spawn.Value("q", 0)
        if write_every_ms > 0:
            ready = spawn.Event()
            writer = spawn.Process(target=_write, daemon=True,
                                   args=(tmp, write_every_ms, devices, ready, stop, count, batched_writes))
            writer.start()
            ready.wait(60)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.1)
            time.sleep(1.0 * (len(servers) - 1))  # every worker listening before connections are spread
            results = {}
            for name, path in ENDPOINTS.items():
                asyncio.run(_load(port, path, token, rate=50, seconds=1.0, connections=8))  # warm-up
                writes_before, t0 = count.value, time.perf_counter()
                cpu_before = _cpu_s([server.pid for server in servers])
                results[name] = asyncio.run(_load(port, path, token, rate, seconds, connections))
                cpu_after = _cpu_s([server.pid for server in servers])
                if cpu_before is not None and cpu_after is not None:
                    results[name]["server_cpu_ms_per_request"] = round(
                        (cpu_after - cpu_before) * 1000 / results[name]["requests"], 3)
                if writer is not None:
                    results[name]["writes_per_s"] = round((count.value - writes_before)
                                                          / (time.perf_counter() - t0), 1)
        finally:
            stop.set()
            if writer is not None:
                writer.join(10)
            for server in servers:
                server.terminate()
            for server in servers:
                server.join(10)
    return {"items": items, "devices": devices, "rate": rate, "seconds": seconds, "cpus": os.cpu_count(),
            "workers": len(servers), "write_every_ms": write_every_ms,
            "batched_writes": batched_writes if write_every_ms > 0 else None,
            "populate_s": round(populate_s, 1), "endpoints": results}


if __name__ == "__main__":  # python -m admin.bench [--rate N] [--seconds S] [--workers W] [--write-every-ms MS]
    import argparse

    parser = argparse.ArgumentParser(description="管理后台压测")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--devices", type=int, default=1_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--write-every-ms", type=float, default=0.0)
    args = parser.parse_args()
    print(json.dumps(run_admin_bench(items=args.items, devices=args.devices, rate=args.rate, seconds=args.seconds,
                                     workers=args.workers, write_every_ms=args.write_every_ms),
                     ensure_ascii=False, indent=1))
