"""`hall bench push`: publish → applied on N endpoints.

Every simulated endpoint is the real ``content.endpoint.Endpoint``: its own
MQTT client (paho, own socket, driven by its worker's event loop) and its own
cache that fetches the manifest and the new media over HTTP and verifies every
byte. They are spread over worker processes, on a core of their own by default.
The publisher and the collector of reports run in this process, the admin's
media route in another; latency is measured on one clock (monotonic), from the
publish call to the arrival of each device's "applied" report. Bare-socket
probes (``broker.bench_probe``) measure the broker's own fan-out next to it.
With ``media_proxy`` the endpoints fetch through nginx (``ProxyProcess``, the
configuration of ``hall admin nginx-config``) and the origin fetches per round
are counted from its access log.
"""

from __future__ import annotations

import asyncio
import collections
import functools
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


# Simulated endpoints per worker process. Their MQTT sockets run on the
# worker's event loop (epoll), so select()'s 1,024-descriptor limit of paho's
# own thread does not apply; with paho threads it capped a worker at ~200.
ENDPOINTS_PER_WORKER = 500
# New MQTT connections per second across all workers: a storm of thousands of
# simultaneous SYNs overflows the listen backlog and costs seconds of retries.
CONNECT_RATE = 500.0


def split_cores() -> tuple[set[int], set[int]] | None:
    """(infrastructure cores, simulator cores), or None on one core.

    Thousands of simulated endpoints are thousands of runnable threads at
    publish time; sharing cores with them, the broker and the media server
    waited seconds for a time slice (a 5,000-device fan-out measured 9.7 s at
    1.6 % broker CPU). A site gives every endpoint its own CPU, so the
    simulator gets a core of its own and the broker, media server, publisher
    and probes the others."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return None
    if len(cores) < 2:
        return None
    return set(cores[:-1]), {cores[-1]}


class MediaProcess:
    """The admin's media route (``admin.media.MediaServer``) in a process of its own."""

    def __init__(self, store_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._store_dir = store_dir
        self._proc: subprocess.Popen | None = None

    def start(self) -> "MediaProcess":
        import socket

        self._proc = subprocess.Popen([sys.executable, "-m", "broker.bench_push", "--serve-media",
                                       str(self._store_dir), str(self.port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("media server process did not start")

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


NGINX_MISSING = ("需要 nginx 才能测量缓存反向代理：请运行 apt-get install -y nginx-light（或 nginx）。\n"
                 "nginx is needed for --media-proxy: install it with `apt-get install -y nginx-light` (or `nginx`).")


class NginxMissing(RuntimeError):
    pass


def find_nginx() -> str:
    import shutil

    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found is None:
        raise NginxMissing(NGINX_MISSING)
    return found


class ProxyProcess:
    """Debian's nginx in front of the media route, with the configuration
    ``hall admin nginx-config`` ships (``admin.proxy_config``), in the
    foreground, unprivileged, everything in a temporary directory. Its access
    log tells how many requests reached the origin."""

    def __init__(self, upstream: str, *, cache_lock: bool = True) -> None:
        self._cache_lock = cache_lock
        self.binary = find_nginx()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Its own directory, not inside the benchmark's (0700, root's): nginx runs as nobody.
        self.dir = Path(tempfile.mkdtemp(prefix="hall-bench-nginx-"))
        self.log = self.dir / "access.log"
        self._upstream = upstream
        self._proc: subprocess.Popen | None = None
        self._log_offset = 0

    def start(self) -> "ProxyProcess":
        import socket

        from admin.proxy_config import ProxySettings, write_config

        (self.dir / "cache").mkdir()
        # Workers on the infrastructure core(s) only, like the media route.
        workers = str(max(1, len(os.sched_getaffinity(0))))
        conf = write_config(self.dir / "nginx.conf", ProxySettings(
            upstream=self._upstream, listen=f"127.0.0.1:{self.port}", cache_dir=self.dir / "cache",
            cache_size="1g", worker_processes=workers, worker_rlimit_nofile=raise_fd_limit(),
            cache_lock=self._cache_lock, access_log=self.log, runtime_dir=self.dir))
        self.log.touch()
        preexec = None
        if os.geteuid() == 0:  # a root nginx would run its master as root: drop to nobody first
            nobody = 65534
            for path in [self.dir, *self.dir.rglob("*")]:
                os.chown(path, nobody, nobody)

            def preexec() -> None:
                os.setgroups([])
                os.setgid(nobody)
                os.setuid(nobody)
        self._proc = subprocess.Popen([self.binary, "-p", str(self.dir), "-e", str(self.dir / "error.log"),
                                       "-c", str(conf)], stdout=subprocess.DEVNULL,
                                      stderr=open(self.dir / "stderr.log", "wb"), preexec_fn=preexec)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self._proc.poll() is None:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        err = (self.dir / "stderr.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"nginx did not start: {err}")

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """Master and workers together."""
        import psutil

        total = 0.0
        try:
            master = psutil.Process(self.pid)
            for proc in [master, *master.children()]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
        return total

    def mark(self) -> None:
        self._log_offset = self.log.stat().st_size

    def since_mark(self) -> collections.Counter:
        """Requests since ``mark()`` by outcome: "origin" for those that reached
        the media route, and one count per cache status."""
        counts: collections.Counter = collections.Counter()
        with open(self.log, "rb") as fh:
            fh.seek(self._log_offset)
            for line in fh:
                fields = line.split()
                if len(fields) < 4:
                    continue
                counts[f"cache_{fields[1].decode()}"] += 1
                if fields[2] != b"-":
                    counts["origin"] += 1
                if not fields[3].startswith(b"2") and not fields[3].startswith(b"3"):
                    counts["errors"] += 1
        return counts

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGQUIT)  # graceful: workers finish their requests
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def _priming_publisher(base: type) -> type:
    """The admin's publisher, but one that fetches the new manifest and its
    media through the proxy before it announces them: every screen then gets
    a cache hit instead of queueing on nginx's cache lock, whose waiters poll
    it every 500 ms. What a product change to ``Publisher`` would do (after
    the publish state is saved, so the admin's access rule already calls the
    files public); the priming time counts in the latency."""

    class PrimingPublisher(base):  # type: ignore[misc, valid-type]
        def _send(self, desired) -> bool:  # noqa: ANN001
            import urllib.request

            from content.model import Manifest

            with urllib.request.urlopen(desired.manifest_url, timeout=30) as resp:
                manifest = Manifest.model_validate_json(resp.read())
            for sha in manifest.media_refs():
                with urllib.request.urlopen(f"{self.public_url}/media/{sha}", timeout=30) as resp:
                    resp.read()
            return super()._send(desired)

    return PrimingPublisher


def _serve_media(store_dir: str, port: int) -> None:
    from admin.media import MediaServer
    from content.store import MediaStore

    raise_fd_limit()
    server = MediaServer(MediaStore(Path(store_dir)), port=port).start()
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    while not stop[0]:
        time.sleep(0.2)
    server.stop()


def raise_fd_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit: the media server and the
    collector hold one socket per simulated device."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


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


def _png(seed: int, size: int = 50_000) -> bytes:
    """A distinct PNG of about ``size`` bytes: random pixels, so that it does
    not compress and the media figures carry real bytes (a kiosk picture)."""
    import random

    from PIL import Image

    side = int((size / 3) ** 0.5)
    img = Image.frombytes("RGB", (side, side), random.Random(seed).randbytes(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
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
                   rounds: int = 3, timeout: float = 120.0, probes: int = 20,
                   separate_cores: bool = True, media_proxy: bool = False,
                   proxy_cache_lock: bool = True, proxy_prime: bool = False) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from admin.publish import Publisher
    from content.signing import ManifestSigner
    from content.store import MediaStore

    console = Console(stderr=True)
    if media_proxy:
        find_nginx()  # before anything is started
    processes = processes or max(1, -(-devices // ENDPOINTS_PER_WORKER))
    cores = split_cores() if separate_cores else None
    saved_affinity = os.sched_getaffinity(0) if cores else None
    if cores:
        os.sched_setaffinity(0, cores[0])  # inherited by the broker, media server and probe
    fd_limit = raise_fd_limit()
    if devices * 2 + 100 > fd_limit:
        raise RuntimeError(f"{devices} devices need about {devices * 2 + 100} file descriptors here; "
                           f"the hard limit is {fd_limit} (raise it with ulimit -Hn)")
    workdir = Path(tempfile.mkdtemp(prefix="hall-bench-push-"))
    # 1,000 simulated devices would share one disk here, while each real device
    # has its own: their caches go to tmpfs so the disk does not dominate.
    shm = Path("/dev/shm")
    fleet_dir = Path(tempfile.mkdtemp(prefix="hall-bench-fleet-", dir=shm)) if shm.is_dir() else workdir / "fleet"
    port = _free_port()
    broker_proc = _start_broker(broker, port, workdir)
    store = MediaStore(workdir / "admin-media")
    signer = ManifestSigner.generate()
    # The admin is its own process in production: its media server must not
    # share a GIL with the collector of 5,000 reports.
    server = MediaProcess(workdir / "admin-media").start()
    proxy: ProxyProcess | None = None
    if media_proxy:
        try:
            proxy = ProxyProcess(server.url, cache_lock=proxy_cache_lock).start()
        except BaseException:
            server.stop()
            broker_proc.terminate()
            raise
    # What the endpoints (and the manifest URLs in desired states) point at.
    media_url = proxy.url if proxy is not None else server.url
    settings = HallSettings(_env_file=None, mqtt_port=port, site_id="bench", data_dir=fleet_dir,
                            public_key=signer.public_key_b64, admin_url=media_url)
    workers: list[subprocess.Popen] = []
    per = [devices // processes + (1 if i < devices % processes else 0) for i in range(processes)]
    offset = 0
    env = {**os.environ, "HALL_ENV_FILE": "/nonexistent"}
    for count in per:
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "broker.bench_push", json.dumps(
                {"port": port, "offset": offset, "count": count, "data_dir": str(fleet_dir),
                 "public_key": signer.public_key_b64, "admin_url": media_url,
                 "pace": processes / CONNECT_RATE})],
            env=env, stdout=subprocess.DEVNULL, stderr=open(workdir / f"worker-{offset}.log", "wb"),
            preexec_fn=(lambda: os.sched_setaffinity(0, cores[1])) if cores else None))
        offset += count

    import psutil

    broker_ps = psutil.Process(broker_proc.pid)
    media_ps = psutil.Process(server.pid)

    def broker_cpu() -> float:
        times = broker_ps.cpu_times()
        return times.user + times.system

    def media_cpu() -> float:
        times = media_ps.cpu_times()
        return times.user + times.system

    def rss_mb(procs: list[subprocess.Popen]) -> float:
        total = 0
        for proc in procs:
            try:
                total += psutil.Process(proc.pid).memory_info().rss
            except psutil.Error:
                pass
        return round(total / 2**20, 1)

    fanout: dict[int, float] = {}  # version -> monotonic time the last probe had it
    probe_proc: subprocess.Popen | None = None

    def start_probe() -> None:
        nonlocal probe_proc
        import threading

        probe_proc = subprocess.Popen([sys.executable, "-m", "broker.bench_probe", str(port), "bench", str(probes)],
                                      env=env, stdout=subprocess.PIPE, stderr=open(workdir / "probe.log", "wb"))
        ready = threading.Event()

        def read() -> None:
            assert probe_proc is not None and probe_proc.stdout is not None
            for line in probe_proc.stdout:
                row = json.loads(line)
                if "ready" in row:
                    ready.set()
                else:
                    fanout[row["version"]] = row["last"]

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60):
            raise RuntimeError("broker probe did not subscribe")

    online: set[str] = set()
    applied_at: dict[int, dict[str, float]] = {}
    failures: dict[str, str] = {}

    async def main() -> dict[str, Any]:
        collector = HallClient(settings, client_id="bench-collector", kind="bench", availability=False)

        async def on_availability(msg: Availability) -> None:
            if msg.state == "online":
                online.add(msg.device_id)

        async def on_report(msg: ReportedState) -> None:
            now = time.monotonic()
            if msg.status == "applied" and msg.applied_version is not None:
                applied_at.setdefault(msg.applied_version, {}).setdefault(msg.device_id, now)
            elif msg.status == "failed":
                failures[msg.device_id] = msg.error or "?"

        collector.subscribe(Availability, on_availability)
        collector.subscribe(ReportedState, on_report)
        await collector.start()
        if not await collector.wait_connected(10):
            raise RuntimeError("collector could not connect")
        publisher_class = _priming_publisher(Publisher) if proxy is not None and proxy_prime else Publisher
        publisher = publisher_class(site_id="bench", public_url=media_url, store=store, signer=signer,
                                    state_file=workdir / "publish.json", client=collector)

        async def wait_for(predicate, what: str, progress, task) -> float:
            start = time.monotonic()
            while time.monotonic() - start < timeout:
                done = predicate()
                progress.update(task, completed=done)
                if done >= devices:
                    return time.monotonic() - start
                await asyncio.sleep(0.02)
            raise TimeoutError(f"{what}: only {predicate()} of {devices} after {timeout:.0f}s")

        latencies: list[float] = []
        spans: list[float] = []
        busy: list[float] = []  # broker CPU seconds per round
        fanouts: list[float] = []  # publish -> broker delivered to its last subscriber
        media_busy: list[float] = []  # media server CPU seconds per round
        proxy_busy: list[float] = []  # nginx CPU seconds per round (master + workers)
        proxy_rounds: list[dict[str, int]] = []  # per round: requests by cache status, origin fetches
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            task = progress.add_task(f"{devices} 个终端上线", total=devices)
            connect_s = await wait_for(lambda: len(online), "online", progress, task)
            if probes:
                await asyncio.to_thread(start_probe)
            # warm-up round: first manifest, connections and HTTP pools established
            version = publisher.publish(_manifest(store, 0, media_files)).version
            task = progress.add_task("预热发布", total=devices)
            await wait_for(lambda: len(applied_at.get(version, {})), "warm-up", progress, task)
            for r in range(1, rounds + 1):
                manifest = _manifest(store, r, media_files)
                cpu0, media0 = broker_cpu(), media_cpu()
                if proxy is not None:
                    proxy.mark()
                    proxy0 = proxy.cpu_seconds()
                t0 = time.monotonic()
                version = publisher.publish(manifest).version
                task = progress.add_task(f"第 {r} 轮发布 v{version}", total=devices)
                await wait_for(lambda: len(applied_at.get(version, {})), f"round {r}", progress, task)
                times = [t - t0 for t in applied_at[version].values()]
                busy.append(broker_cpu() - cpu0)
                media_busy.append(media_cpu() - media0)
                if proxy is not None:
                    proxy_busy.append(proxy.cpu_seconds() - proxy0)
                    proxy_rounds.append(dict(proxy.since_mark()))
                latencies += times
                spans.append(max(times))
                if probes:
                    for _ in range(100):
                        if version in fanout:
                            break
                        await asyncio.sleep(0.05)
                    if version in fanout:
                        fanouts.append(fanout[version] - t0)
        memory = {"workers_rss_mb": rss_mb(workers), "broker_rss_mb": rss_mb([broker_proc])}
        await collector.stop()
        return {"latencies": latencies, "spans": spans, "broker_cpu_s": busy, "fanouts": fanouts,
                "media_cpu_s": media_busy, "proxy_cpu_s": proxy_busy, "proxy_rounds": proxy_rounds,
                "connect_s": connect_s, **memory}

    try:
        raw = asyncio.run(main())
    finally:
        if probe_proc is not None:
            probe_proc.kill()
            probe_proc.wait(10)
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if proxy is not None:
            proxy.stop()
        server.stop()
        broker_proc.terminate()
        broker_proc.wait(10)
        import shutil

        shutil.rmtree(fleet_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
        if saved_affinity:
            os.sched_setaffinity(0, saved_affinity)

    lat = raw["latencies"]
    span = statistics.mean(raw["spans"])
    result = {
        "benchmark": "push", "broker": broker, "devices": devices, "processes": processes, "rounds": rounds,
        "media_files_per_publish": media_files,
        "p50_ms": round(percentile(lat, 50) * 1000, 1), "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1),
        "applied": len(lat) // rounds, "failed": len(failures),
        # devices that reported a failed attempt (they retry with backoff), by reason
        "failure_reasons": dict(collections.Counter(_reason(r) for r in failures.values()).most_common(3)),
        # desired-state deliveries + applied reports carried by the broker per second of a round
        "messages_per_s": round(2 * devices / span, 1),
        "http_fetches_per_s": round(devices * (1 + media_files) / span, 1),
        # share of one core the broker used during a round (publish until the last report)
        "broker_cpu_percent": round(100 * statistics.mean(raw["broker_cpu_s"]) / span, 1),
        "media_server_cpu_percent": round(100 * statistics.mean(raw["media_cpu_s"]) / span, 1),
        "media_mb_per_s": round(devices * media_files * _png_size() / span / 1e6, 2),
        # publish call -> the broker has handed the message to its last subscriber
        # (bare-socket probes subscribed after every endpoint): the broker's share
        "broker_fanout_ms_mean": round(statistics.mean(raw["fanouts"]) * 1000, 1) if raw["fanouts"] else None,
        "broker_fanout_ms_max": round(max(raw["fanouts"]) * 1000, 1) if raw["fanouts"] else None,
        "all_online_s": round(raw["connect_s"], 1),
        "workers_rss_mb": raw["workers_rss_mb"], "broker_rss_mb": raw["broker_rss_mb"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "cores": ({"infrastructure": sorted(cores[0]), "simulated_endpoints": sorted(cores[1])}
                  if cores else "shared"),
        "device_caches_on": "tmpfs" if str(fleet_dir).startswith("/dev/shm") else "disk",
        "media_proxy": ("nginx" + ("" if proxy_cache_lock else ", proxy_cache_lock off")
                        + (", primed by the publisher" if proxy_prime else "")) if media_proxy else None,
    }
    if media_proxy:
        result["proxy_cpu_percent"] = round(100 * statistics.mean(raw["proxy_cpu_s"]) / span, 1)
        # requests that reached the media route, per timed round (the rest were cache hits)
        result["origin_fetches_per_round"] = [r.get("origin", 0) for r in raw["proxy_rounds"]]
        result["proxy_requests_per_round"] = [sum(v for k, v in r.items() if k.startswith("cache_"))
                                              for r in raw["proxy_rounds"]]
        result["proxy_rounds"] = raw["proxy_rounds"]
    table = Table(title=f"发布 → 已应用 · {devices} 个终端 · {broker}" + (" · nginx 缓存" if media_proxy else ""))
    for key in ("p50_ms", "p99_ms", "max_ms", "applied", "failed", "messages_per_s", "http_fetches_per_s",
                "broker_cpu_percent", "media_server_cpu_percent", "media_mb_per_s", "broker_fanout_ms_mean", "broker_fanout_ms_max",
                "all_online_s", "workers_rss_mb"):
        table.add_row(key, str(result[key]))
    for key in ("proxy_cpu_percent", "origin_fetches_per_round", "proxy_requests_per_round"):
        if key in result:
            table.add_row(key, str(result[key]))
    console.print(table)
    return result


def _reason(error: str) -> str:
    """An error without its hashes and URLs, so that equal causes count together."""
    import re

    error = re.sub(r"https?://\S+", "URL", error)
    return re.sub(r"\b[0-9a-f]{12,64}\b", "HASH", error)[:120]


# -- worker process: many real endpoints in one asyncio loop ---------------------------
def _worker(config: dict[str, Any]) -> None:
    import logging

    from content.endpoint import Endpoint

    logging.basicConfig(level=logging.WARNING)
    raise_fd_limit()
    # 200 clients in one process: their sockets on this process's event loop,
    # not 200 paho threads fighting for one GIL (see ``HallClient``).
    settings = HallSettings(_env_file=None, mqtt_port=config["port"], site_id="bench",
                            data_dir=Path(config["data_dir"]), public_key=config["public_key"],
                            admin_url=config["admin_url"], mqtt_network=config.get("network", "asyncio"))

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        endpoints = [Endpoint(settings, kind="kiosk", device_id=f"sim-{config['offset'] + i:05d}", groups=["bench"],
                              telemetry_interval=3600, durable_cache=False) for i in range(config["count"])]
        for endpoint in endpoints:
            await endpoint.start()
            await asyncio.sleep(config.get("pace", 0.002))  # spread the connection storm
        await stop.wait()
        # All at once: one by one, 200 offline announcements took minutes under load.
        await asyncio.gather(*(endpoint.stop() for endpoint in endpoints), return_exceptions=True)

    from .aio import run

    try:
        run(main())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    if sys.argv[1] == "--serve-media":
        _serve_media(sys.argv[2], int(sys.argv[3]))
    elif os.environ.get("HALL_BENCH_PROFILE"):  # where a simulated endpoint spends its CPU
        import cProfile

        cProfile.run("_worker(json.loads(sys.argv[1]))", os.environ["HALL_BENCH_PROFILE"])
    else:
        _worker(json.loads(sys.argv[1]))
