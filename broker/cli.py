"""The `hall` console script. Each package contributes its own sub-app
(`kiosk/cli.py` …); this module composes them and owns `up`, `broker`,
`status` and `bench push`. Heavy imports stay inside commands so that
`hall --help` is instant."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="党建展厅 Dangjian Hall: 展厅控制系统", no_args_is_help=True, add_completion=False)
broker_app = typer.Typer(help="消息服务器（内置 amqtt）与 Mosquitto 配置", invoke_without_command=True)
bench_app = typer.Typer(help="性能基准测试", no_args_is_help=True)
app.add_typer(broker_app, name="broker")
app.add_typer(bench_app, name="bench")

log = logging.getLogger("hall")


def setup_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        logging.basicConfig(level=level, format="%(name)s: %(message)s", handlers=[RichHandler(show_path=False)])
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("amqtt", "transitions", "httpx", "httpcore", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _settings(data_dir: Optional[Path] = None, **overrides):
    from .settings import HallSettings

    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return HallSettings(**values)


# -- broker -------------------------------------------------------------------------
@broker_app.callback()
def broker_main(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(1883, help="监听端口"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR", help="数据目录（含 fleet.yaml）"),
    allow_anonymous: bool = typer.Option(False, help="允许匿名连接（仅限测试）"),
) -> None:
    """运行内置消息服务器 (amqtt)，按设备清单校验用户名密码和主题权限。"""
    if ctx.invoked_subcommand is not None:
        return
    setup_logging()
    from .embedded import EmbeddedBroker, broker_config
    from .fleet import Fleet

    settings = _settings(data_dir)
    fleet = Fleet.load(settings.fleet_file)
    if not fleet.devices and not allow_anonymous:
        typer.echo(f"设备清单 {settings.fleet_file} 为空：先运行 `hall up --demo` 或 `hall admin add-device`，"
                   "或用 --allow-anonymous 启动测试服务器", err=True)
        raise typer.Exit(2)
    config = broker_config(host=host, port=port, fleet=fleet if fleet.devices else None,
                           password_file=settings.data_dir / "broker" / "passwd", allow_anonymous=allow_anonymous)
    log.info("embedded broker on %s:%s, %d devices", host, port, len(fleet.devices))
    try:
        asyncio.run(EmbeddedBroker(config).serve_forever())
    except KeyboardInterrupt:
        pass


@broker_app.command("mosquitto-config")
def mosquitto_config(
    directory: Path = typer.Argument(..., help="输出目录"),
    port: int = typer.Option(1883),
    bind: str = typer.Option("127.0.0.1"),
    tls_dir: Optional[Path] = typer.Option(None, help="含 ca.crt/server.crt/server.key 的目录，启用 8883 TLS 监听"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
) -> None:
    """从设备清单生成 mosquitto.conf、密码文件和 ACL 文件。"""
    from .mosquitto_config import write_mosquitto_config

    fleet = _fleet_or_exit(data_dir)
    for path in write_mosquitto_config(fleet, directory, port=port, bind=bind, tls_dir=tls_dir):
        typer.echo(f"已写入 {path}")
    typer.echo(f"启动: mosquitto -c {directory / 'mosquitto.conf'}")


def _fleet_or_exit(data_dir: Optional[Path]):
    """The device list for a broker config; exit 2 with a reason when it is empty."""
    from .fleet import Fleet

    settings = _settings(data_dir)
    fleet = Fleet.load(settings.fleet_file)
    if not fleet.devices:
        typer.echo(f"设备清单 {settings.fleet_file} 为空，没有可写的账号", err=True)
        raise typer.Exit(2)
    return fleet


@broker_app.command("emqx-config")
def emqx_config(
    directory: Path = typer.Argument(..., help="输出目录"),
    node: list[str] = typer.Option(["10.0.0.11", "10.0.0.12", "10.0.0.13"], "--node",
                                   help="集群节点地址（静态集群），可重复"),
    install_dir: str = typer.Option("/etc/emqx/hall", help="EMQX 节点上存放 acl.conf / users.csv / 证书的目录"),
    tls: bool = typer.Option(True, help="生成 8883 TLS 监听（证书放在 install-dir）"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
) -> None:
    """从设备清单生成 EMQX 5 集群配置：acl.conf、内置数据库用户引导文件和每个节点的 emqx.conf。"""
    from .emqx_config import ClusterSettings, write_emqx_config
    from .fleet import FleetError

    fleet = _fleet_or_exit(data_dir)
    try:
        paths = write_emqx_config(fleet, directory, ClusterSettings(nodes=tuple(node), install_dir=install_dir,
                                                                    tls=tls))
    except FleetError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    for path in paths:
        typer.echo(f"已写入 {path}")
    typer.echo(f"把 acl.conf 和 users.csv 复制到每个节点的 {install_dir}/，nodeN/emqx.conf 放到对应节点的 etc/emqx.conf")


@broker_app.command("make-ca")
def make_ca_command(
    directory: Path = typer.Argument(..., help="输出目录（ca.crt/ca.key/server.crt/server.key）"),
    host: list[str] = typer.Option(["127.0.0.1", "localhost"], "--host", help="服务器名称或 IP，可重复"),
) -> None:
    """生成本地 CA 和服务器证书，用于 MQTT TLS（8883）和管理后台 HTTPS。"""
    from .tls import make_ca

    paths = make_ca(directory, hosts=host)
    for name, path in paths.items():
        typer.echo(f"{name}: {path}")
    typer.echo("终端配置 HALL_MQTT_TLS_CA=" + str(paths["ca"]) + "；mosquitto 用 `hall broker mosquitto-config --tls-dir "
               + str(directory) + "`")


# -- status -------------------------------------------------------------------------
@app.command()
def status(
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
    wait: float = typer.Option(0.0, help="最多等待这么多秒，直到所有终端在线且已应用目标版本"),
    expect: int = typer.Option(0, help="至少应有的终端数量（与 --wait 一起用）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    check: bool = typer.Option(False, help="有终端离线或未同步时以退出码 1 结束"),
) -> None:
    """列出所有终端：在线/离线、目标版本与已应用版本、最后上报时间。"""
    from .provision import CLI_IDENTITY, settings_for
    from .status import collect, render

    settings = settings_for(_settings(data_dir), CLI_IDENTITY)
    try:
        view = asyncio.run(collect(settings, until_in_sync=wait, expect=expect))
    except ConnectionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    if as_json:
        rows = [dict(vars(r), desired_version=view.desired_for(r), in_sync=view.in_sync(r)) for r in view.endpoints()]
        typer.echo(json.dumps({"devices": rows, "all_in_sync": view.all_in_sync()}, ensure_ascii=False))
    else:
        render(view)
    if check and not (view.all_in_sync() and len(view.endpoints()) >= expect):
        raise typer.Exit(1)


# -- up -----------------------------------------------------------------------------
@app.command()
def up(
    demo: bool = typer.Option(False, help="载入演示内容"),
    headless: bool = typer.Option(False, help="触摸屏和展厅无屏幕运行"),
    kiosks: int = typer.Option(2, help="触摸屏数量"),
    halls: int = typer.Option(1, help="3D 展厅数量"),
    robots: int = typer.Option(1, help="机器人数量"),
    broker: str = typer.Option("embedded", help="embedded 或 mosquitto"),
    mqtt_port: int = typer.Option(1883),
    admin_port: int = typer.Option(8000),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
) -> None:
    """在本机以独立进程运行消息服务器、管理后台、触摸屏、3D 展厅和机器人，崩溃自动重启。"""
    setup_logging()
    from .plan import build_plan
    from .supervisor import Supervisor

    settings = _settings(data_dir, mqtt_port=mqtt_port, admin_url=f"http://127.0.0.1:{admin_port}")
    specs = build_plan(settings, demo=demo, headless=headless, kiosks=kiosks, halls=halls, robots=robots,
                       broker=broker, admin_port=admin_port)
    log.info("data dir %s; logs in %s", settings.data_dir.resolve(), settings.data_dir / "logs")
    log.info("管理后台: http://127.0.0.1:%s  ·  状态: hall status", admin_port)
    raise typer.Exit(asyncio.run(Supervisor(specs, log_dir=settings.data_dir / "logs").run()))


# -- endpoints ------------------------------------------------------------------------
def endpoint_command(kind: str):
    """A plain endpoint process with no UI: applies manifests and reports them.
    Used for the packages whose own CLI is not installed, and by benchmarks."""

    def run(
        device_id: Optional[str] = typer.Option(None, "--device-id", envvar="HALL_DEVICE_ID"),
        headless: bool = typer.Option(False, "--headless", hidden=True),
        offscreen: bool = typer.Option(False, "--offscreen", hidden=True),
        data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
    ) -> None:
        setup_logging()
        from content.endpoint import Endpoint, EndpointError

        try:
            endpoint = Endpoint(_settings(data_dir), kind=kind, device_id=device_id)
        except EndpointError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2)
        from .aio import run

        try:
            run(endpoint.run())
        except KeyboardInterrupt:
            pass

    run.__doc__ = f"运行一个无界面的 {kind} 终端（应用清单并上报）"
    return run


@app.command("endpoint")
def endpoint(
    kind: str = typer.Option(..., help="kiosk | vrhall | robot"),
    device_id: Optional[str] = typer.Option(None, "--device-id", envvar="HALL_DEVICE_ID"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
) -> None:
    """运行一个无界面的终端：应用清单、上报版本、确认紧急通知。"""
    endpoint_command(kind)(device_id=device_id, headless=True, offscreen=True, data_dir=data_dir)


def _mount(name: str, module: str, kind: str | None, help_text: str) -> None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        if kind is not None:
            app.command(name, help=help_text)(endpoint_command(kind))
        return
    app.add_typer(mod.app, name=name, help=help_text)
    bench = getattr(mod, "bench", None)
    if bench is not None:
        bench_app.command(name)(bench)


_mount("admin", "admin.cli", None, "管理后台：内容编辑、分级审核、排期发布、设备管理")
_mount("kiosk", "kiosk.cli", "kiosk", "触摸屏终端")
_mount("vrhall", "vrhall.cli", "vrhall", "3D / VR 党史展厅")
_mount("robot", "robot.cli", "robot", "导览机器人：语音问答、引导、人脸签到")
try:  # the face check-in benchmark lives in its own sub-package
    from robot.face.cli import bench as _face_bench

    bench_app.command("face")(_face_bench)
except ModuleNotFoundError as _exc:
    if _exc.name not in ("robot.face", "robot.face.cli"):
        raise


@bench_app.command("push")
def bench_push(
    devices: int = typer.Option(100, help="模拟终端数量"),
    broker: str = typer.Option("embedded", help="embedded 或 mosquitto"),
    processes: int = typer.Option(0, help="模拟终端分布在几个进程里（0 = 自动）"),
    media: int = typer.Option(3, help="每次发布新增的媒体文件数"),
    separate_cores: bool = typer.Option(True, help="模拟终端独占一个 CPU 核，消息服务器和媒体服务用其余的核"),
    media_proxy: bool = typer.Option(False, "--media-proxy", help="终端经 nginx 缓存反向代理取媒体（需要已安装 nginx）"),
    proxy_cache_lock: bool = typer.Option(True, help="代理合并同一新文件的并发请求（proxy_cache_lock，对比时可关）"),
    proxy_prime: bool = typer.Option(False, help="发布方先经代理取一遍新清单和媒体再通知终端（预热缓存）"),
    as_json: bool = typer.Option(False, "--json", help="最后一行输出 JSON"),
) -> None:
    """发布新清单，测量 N 个真实 MQTT 终端从发布到上报已应用的延迟 (p50/p99)。"""
    setup_logging()
    from .bench_push import NginxMissing, run_push_bench

    try:
        result = run_push_bench(devices=devices, broker=broker, processes=processes, media_files=media,
                                separate_cores=separate_cores, media_proxy=media_proxy,
                                proxy_cache_lock=proxy_cache_lock, proxy_prime=proxy_prime)
    except NginxMissing as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))


@bench_app.command("fleet")
def bench_fleet(
    devices: list[int] = typer.Option([1000, 5000], "--devices", help="终端数量，可重复"),
    broker: str = typer.Option("mosquitto"),
    media: int = typer.Option(3, help="每次发布新增的媒体文件数"),
    processes: int = typer.Option(0, help="模拟终端分布在几个进程里（0 = 自动，每进程最多 200 个）"),
    rounds: int = typer.Option(2, help="预热之后的发布轮数"),
    probes: int = typer.Option(20, help="测量消息服务器分发耗时的轻量订阅者数量（0 = 不测）"),
    separate_cores: bool = typer.Option(True, help="模拟终端独占一个 CPU 核，消息服务器和媒体服务用其余的核"),
    media_proxy: bool = typer.Option(False, "--media-proxy", help="终端经 nginx 缓存反向代理取媒体（需要已安装 nginx）"),
    proxy_cache_lock: bool = typer.Option(True, help="代理合并同一新文件的并发请求（proxy_cache_lock，对比时可关）"),
    proxy_prime: bool = typer.Option(False, help="发布方先经代理取一遍新清单和媒体再通知终端（预热缓存）"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """大规模：在 Mosquitto 上对 1,000 / 5,000 个终端发布，测延迟、消息服务器 CPU 和媒体吞吐。"""
    setup_logging()
    from .bench_push import NginxMissing, run_push_bench

    try:
        results = [run_push_bench(devices=n, broker=broker, media_files=media, processes=processes, rounds=rounds,
                                  timeout=300, probes=probes, separate_cores=separate_cores, media_proxy=media_proxy,
                                  proxy_cache_lock=proxy_cache_lock, proxy_prime=proxy_prime)
                   for n in devices]
    except NginxMissing as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps({"benchmark": "fleet", "runs": results}, ensure_ascii=False))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
