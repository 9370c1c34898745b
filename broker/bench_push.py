"""`hall bench push`: publish → applied on N endpoints.

Every simulated endpoint is the real ``content.endpoint.Endpoint``: its own
MQTT client (paho, own socket) and its own cache that fetches the manifest
and the new media over HTTP and verifies every byte. They are spread over a
few worker processes. The publisher, the media server and the collector of
reports run in this process; latency is measured on one clock, from the
publish call to the arrival of each device's "applied" report.
"""

from __future__ import annotations

import asyncio
import collections
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .client import HallClient
from .messages import Availability, ReportedState
from .settings import HallSettings


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_broker(kind: str, port: int, workdir: Path) -> subprocess.Popen:
    if kind == "embedded":
        argv = [sys.executable, "-m", "broker.cli", "broker", "--allow-anonymous", "--port", str(port)]
    elif kind == "mosquitto":
        import shutil

        conf = workdir / "mosquitto.conf"
        conf.write_text(f"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                        "max_queued_messages 100000\nmax_inflight_messages 0\nmax_connections -1\nset_tcp_nodelay true\n"
                        "log_dest none\n", encoding="utf-8")
        argv = [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)]
    else:
        raise ValueError(f"unknown broker {kind!r}: embedded or mosquitto")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} broker did not start on port {port}")


def _png(seed: int, size: int = 20_000) -> bytes:
    """A distinct, incompressible-ish PNG of about ``size`` bytes."""
    from PIL import Image

    side = int((size / 3) ** 0.5)
    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3) if seed < 0 else
                          bytes((i * 7919 + seed * 104729) % 251 for i in range(side * side * 3)))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _png_size() -> int:
    return len(_png(1))


def _manifest(store, version_tag: int, media_files: int):
    from content.model import Manifest, MediaRef, News

    # A text item that changes every round, so a publish with no media still changes content.
    items = [News(id="round", title=f"基准测试第 {version_tag} 轮", body="正文")]
    for i in range(media_files):
        data = _png(version_tag * 1000 + i)
        ref = MediaRef(sha256=store.put_bytes(data), mime="image/png", size=len(data))
        items.append(News(id=f"n{i}", title=f"基准测试新闻 {version_tag}-{i}", body="正文" * 50, images=[ref]))
    return Manifest(site_id="bench", group="bench", version=0, created_at=0, items=items)


def run_push_bench(*, devices: int, broker: str = "embedded", processes: int = 0, media_files: int = 3,
                   rounds: int = 3, timeout: float = 120.0) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from admin.media import MediaServer
    from admin.publish import Publisher
    from content.signing import ManifestSigner
    from content.store import MediaStore

    console = Console(stderr=True)
    processes = processes or max(1, min(8, (devices + 249) // 250))
    workdir = Path(tempfile.mkdtemp(prefix="hall-bench-push-"))
    # 1,000 simulated devices would share one disk here, while each real device
    # has its own: their caches go to tmpfs so the disk does not dominate.
    shm = Path("/dev/shm")
    fleet_dir = Path(tempfile.mkdtemp(prefix="hall-bench-fleet-", dir=shm)) if shm.is_dir() else workdir / "fleet"
    port = _free_port()
    broker_proc = _start_broker(broker, port, workdir)
    store = MediaStore(workdir / "admin-media")
    signer = ManifestSigner.generate()
    server = MediaServer(store).start()
    settings = HallSettings(_env_file=None, mqtt_port=port, site_id="bench", data_dir=fleet_dir,
                            public_key=signer.public_key_b64, admin_url=server.url)
    workers: list[subprocess.Popen] = []
    per = [devices // processes + (1 if i < devices % processes else 0) for i in range(processes)]
    offset = 0
    env = {**os.environ, "HALL_ENV_FILE": "/nonexistent"}
    for count in per:
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "broker.bench_push", json.dumps(
                {"port": port, "offset": offset, "count": count, "data_dir": str(fleet_dir),
                 "public_key": signer.public_key_b64, "admin_url": server.url})],
            env=env, stdout=subprocess.DEVNULL, stderr=open(workdir / f"worker-{offset}.log", "wb")))
        offset += count

    import psutil

    broker_ps = psutil.Process(broker_proc.pid)

    def broker_cpu() -> float:
        times = broker_ps.cpu_times()
        return times.user + times.system

    online: set[str] = set()
    applied_at: dict[int, dict[str, float]] = {}
    failures: dict[str, str] = {}

    async def main() -> dict[str, Any]:
        collector = HallClient(settings, client_id="bench-collector", kind="bench", availability=False)

        async def on_availability(msg: Availability) -> None:
            if msg.state == "online":
                online.add(msg.device_id)

        async def on_report(msg: ReportedState) -> None:
            now = time.perf_counter()
            if msg.status == "applied" and msg.applied_version is not None:
                applied_at.setdefault(msg.applied_version, {}).setdefault(msg.device_id, now)
            elif msg.status == "failed":
                failures[msg.device_id] = msg.error or "?"

        collector.subscribe(Availability, on_availability)
        collector.subscribe(ReportedState, on_report)
        await collector.start()
        if not await collector.wait_connected(10):
            raise RuntimeError("collector could not connect")
        publisher = Publisher(site_id="bench", public_url=server.url, store=store, signer=signer,
                              state_file=workdir / "publish.json", client=collector)

        async def wait_for(predicate, what: str, progress, task) -> float:
            start = time.perf_counter()
            while time.perf_counter() - start < timeout:
                done = predicate()
                progress.update(task, completed=done)
                if done >= devices:
                    return time.perf_counter() - start
                await asyncio.sleep(0.02)
            raise TimeoutError(f"{what}: only {predicate()} of {devices} after {timeout:.0f}s")

        latencies: list[float] = []
        spans: list[float] = []
        busy: list[float] = []  # broker CPU seconds per round
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            task = progress.add_task(f"{devices} 个终端上线", total=devices)
            await wait_for(lambda: len(online), "online", progress, task)
            # warm-up round: first manifest, connections and HTTP pools established
            version = publisher.publish(_manifest(store, 0, media_files)).version
            task = progress.add_task("预热发布", total=devices)
            await wait_for(lambda: len(applied_at.get(version, {})), "warm-up", progress, task)
            for r in range(1, rounds + 1):
                manifest = _manifest(store, r, media_files)
                cpu0 = broker_cpu()
                t0 = time.perf_counter()
                version = publisher.publish(manifest).version
                task = progress.add_task(f"第 {r} 轮发布 v{version}", total=devices)
                await wait_for(lambda: len(applied_at.get(version, {})), f"round {r}", progress, task)
                times = [t - t0 for t in applied_at[version].values()]
                busy.append(broker_cpu() - cpu0)
                latencies += times
                spans.append(max(times))
        await collector.stop()
        return {"latencies": latencies, "spans": spans, "broker_cpu_s": busy}

    try:
        raw = asyncio.run(main())
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.stop()
        broker_proc.terminate()
        broker_proc.wait(10)
        import shutil

        shutil.rmtree(fleet_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    lat = raw["latencies"]
    span = statistics.mean(raw["spans"])
    result = {
        "benchmark": "push", "broker": broker, "devices": devices, "processes": processes, "rounds": rounds,
        "media_files_per_publish": media_files,
        "p50_ms": round(percentile(lat, 50) * 1000, 1), "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1),
        "applied": len(lat) // rounds, "failed": len(failures),
        # devices that reported a failed attempt (they retry with backoff), by reason
        "failure_reasons": dict(collections.Counter(reason[:60] for reason in failures.values()).most_common(3)),
        # desired-state deliveries + applied reports carried by the broker per second of a round
        "messages_per_s": round(2 * devices / span, 1),
        "http_fetches_per_s": round(devices * (1 + media_files) / span, 1),
        # share of one core the broker used during a round (publish until the last report)
        "broker_cpu_percent": round(100 * statistics.mean(raw["broker_cpu_s"]) / span, 1),
        "media_mb_per_s": round(devices * media_files * _png_size() / span / 1e6, 2),
        "cpu_count": os.cpu_count(),
        "device_caches_on": "tmpfs" if str(fleet_dir).startswith("/dev/shm") else "disk",
    }
    table = Table(title=f"发布 → 已应用 · {devices} 个终端 · {broker}")
    for key in ("p50_ms", "p99_ms", "max_ms", "applied", "failed", "messages_per_s", "http_fetches_per_s",
                "broker_cpu_percent", "media_mb_per_s"):
        table.add_row(key, str(result[key]))
    console.print(table)
    return result


# -- worker process: many real endpoints in one asyncio loop ---------------------------
def _worker(config: dict[str, Any]) -> None:
    import logging

    from content.endpoint import Endpoint

    logging.basicConfig(level=logging.WARNING)
    settings = HallSettings(_env_file=None, mqtt_port=config["port"], site_id="bench",
                            data_dir=Path(config["data_dir"]), public_key=config["public_key"],
                            admin_url=config["admin_url"])

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        endpoints = [Endpoint(settings, kind="kiosk", device_id=f"sim-{config['offset'] + i:05d}", groups=["bench"],
                              telemetry_interval=3600, durable_cache=False) for i in range(config["count"])]
        for endpoint in endpoints:
            await endpoint.start()
            await asyncio.sleep(0.002)  # spread the connection storm a little
        await stop.wait()
        for endpoint in endpoints:
            await endpoint.stop()

    from .aio import run

    try:
        run(main())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    if os.environ.get("HALL_BENCH_PROFILE"):  # where a simulated endpoint spends its CPU
        import cProfile

        cProfile.run("_worker(json.loads(sys.argv[1]))", os.environ["HALL_BENCH_PROFILE"])
    else:
        _worker(json.loads(sys.argv[1]))
