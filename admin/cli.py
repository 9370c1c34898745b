"""`hall admin ...`: serve the admin, create users, provision devices, bench.

Cheap to import (only typer here): `hall --help` must not load FastAPI or
SQLAlchemy. Everything heavy is imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="管理后台：内容编辑、分级审核、排期发布、设备管理", no_args_is_help=True, add_completion=False)


def _settings(data_dir: Optional[Path] = None, **overrides):  # noqa: ANN202
    from admin.settings import AdminSettings

    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return AdminSettings(**values)


def _logging() -> None:
    try:
        from broker.cli import setup_logging
    except ImportError:  # pragma: no cover - broker is part of the project
        import logging

        logging.basicConfig(level=logging.INFO)
        return
    setup_logging()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(8000, help="监听端口"),
    demo: bool = typer.Option(False, "--demo", help="导入演示内容、演示用户并发布演示设备组"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR", help="数据目录"),
    no_mqtt: bool = typer.Option(False, "--no-mqtt", help="不连接消息服务器（仅 API）"),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", envvar="HALL_ADMIN_TLS_CERT",
                                            help="HTTPS 服务器证书（本地 CA 签发，hall broker make-ca）"),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", envvar="HALL_ADMIN_TLS_KEY", help="HTTPS 服务器私钥"),
) -> None:
    """启动管理后台（启动时自动执行数据库迁移）。给出证书和私钥时以 HTTPS 提供服务。"""
    _logging()
    import logging

    import uvicorn

    from admin.app import build_context, create_app

    log = logging.getLogger("admin")
    overrides = {"mqtt_enabled": False} if no_mqtt else {}
    overrides.update(admin_tls_cert=tls_cert, admin_tls_key=tls_key)
    try:
        settings = _settings(data_dir, **overrides)
    except ValueError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    scheme = "https" if settings.admin_tls_cert else "http"
    if settings.admin_url == "http://127.0.0.1:8000" and (port != 8000 or scheme == "https"):
        settings = settings.model_copy(update={"admin_url": f"{scheme}://127.0.0.1:{port}"})
    ctx = build_context(settings)
    if demo:
        from admin.seed import seed_demo

        result = seed_demo(ctx)
        for name, password in result["users"].items():
            log.warning("演示用户 %s 的密码: %s （只显示这一次，另存于 %s）", name, password,
                        settings.demo_users_file)
        for group in result["groups"]:
            log.info("设备组 %s: 清单第 %s 版%s", group["group"], group["version"],
                     "" if group["changed"] else "（未变化）")
    app_ = create_app(ctx=ctx)
    log.info("管理后台 %s://%s:%s  ·  API 文档 %s://%s:%s/docs", scheme, host, port, scheme, host, port)
    from admin.startup import freeze_startup_objects

    freeze_startup_objects()
    uvicorn.run(app_, **uvicorn_options(settings, host=host, port=port))


def uvicorn_options(settings, *, host: str, port: int) -> dict:  # noqa: ANN001
    """How ``serve`` runs uvicorn; HTTPS when the settings name a certificate."""
    # No "server: uvicorn" header: nothing to gain from naming the stack.
    options = {"host": host, "port": port, "log_level": "warning", "access_log": False, "server_header": False}
    if settings.admin_tls_cert is not None:
        options.update(ssl_certfile=str(settings.admin_tls_cert), ssl_keyfile=str(settings.admin_tls_key))
    return options


@app.command("create-user")
def create_user(
    name: str = typer.Argument(..., help="登录名"),
    role: str = typer.Option(..., "--role", help="editor | reviewer | publisher | admin | auditor"),
    display_name: str = typer.Option("", "--display-name", help="显示名"),
    password: Optional[str] = typer.Option(None, "--password", envvar="HALL_NEW_USER_PASSWORD",
                                           help="密码（省略则自动生成并显示一次）"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
) -> None:
    """新建后台用户。"""
    from admin.app import build_context
    from admin.crud import audit
    from admin.crud.users import UserError, create
    from admin.security import generate_password

    ctx = build_context(_settings(data_dir))
    secret = password or generate_password()
    with ctx.sessions() as session:
        try:
            create(session, name=name, role=role, password=secret, display_name=display_name)
        except UserError as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(2) from exc
        audit.record(session, user="cli", action="user_create", target=name, detail=role)
        session.commit()
    typer.echo(f"已创建用户 {name}（{role}）")
    if password is None:
        typer.echo(f"密码：{secret}   （只显示这一次）")


@app.command("add-device")
def add_device(
    device_id: str = typer.Argument(..., help="设备编号，如 kiosk-3"),
    kind: str = typer.Option(..., "--kind", help="kiosk | vrhall | robot"),
    group: list[str] = typer.Option(..., "--group", help="设备组，可重复"),
    name: str = typer.Option("", "--name", help="显示名"),
    env_file: Optional[Path] = typer.Option(None, "--env-file", help="把配置另存到此文件（权限 0600）"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
) -> None:
    """登记设备并打印其配置（MQTT 账号、消息服务器、清单公钥）。"""
    from admin.app import build_context
    from admin.crud import audit
    from admin.provisioning import ProvisionError, provision_device

    settings = _settings(data_dir)
    ctx = build_context(settings)
    with ctx.sessions() as session:
        try:
            _, env = provision_device(session, settings, device_id=device_id, kind=kind, groups=group, name=name)
        except ProvisionError as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(2) from exc
        audit.record(session, user="cli", action="device_add", target=device_id, detail=f"{kind} {group}")
        session.commit()
    text = "".join(f"{k}={v}\n" for k, v in env.items())
    if env_file is not None:
        from broker.provision import write_env

        write_env(env_file, env)
        typer.echo(f"# 已写入 {env_file}", err=True)
    typer.echo(f"# 设备 {device_id} 的配置（密码只显示这一次；设备以 HALL_ENV_FILE 指向此文件启动）")
    typer.echo(text, nl=False)
    typer.echo("# 内置消息服务器在重启后读取新账号；使用 Mosquitto 时请重新运行 hall broker mosquitto-config", err=True)


def bench(
    items: int = typer.Option(10_000, help="内容条数"),
    devices: int = typer.Option(1_000, help="设备数"),
    rate: int = typer.Option(500, help="每秒请求数"),
    seconds: float = typer.Option(10.0, help="每个接口的压测时长（秒）"),
    workers: int = typer.Option(1, help="服务进程数（共享端口）"),
    write_every_ms: float = typer.Option(0, help="压测期间每隔多少毫秒写入一次设备遥测（0 为只读）"),
    unbatched_writes: bool = typer.Option(False, "--unbatched-writes",
                                          help="遥测逐条提交（对比用；正式运行时每秒合并写入一次）"),
    as_json: bool = typer.Option(False, "--json", help="最后一行输出 JSON"),
) -> None:
    """管理后台压测：设备列表与内容列表在固定请求速率下的 p50/p99 延迟。"""
    _logging()
    import json

    from admin.bench import run_admin_bench

    result = run_admin_bench(items=items, devices=devices, rate=rate, seconds=seconds, workers=workers,
                             write_every_ms=write_every_ms, batched_writes=not unbatched_writes)
    for name, figures in result["endpoints"].items():
        typer.echo(f"{name}: p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms  "
                   f"实际 {figures['achieved_rps']:.0f} 次/秒  错误 {figures['errors']}")
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))


@app.command("nginx-config")
def nginx_config(
    file: Path = typer.Argument(..., help="写入的 nginx 配置文件"),
    upstream: str = typer.Option(..., "--upstream", help="管理后台地址，如 http://127.0.0.1:8000"),
    listen: str = typer.Option("0.0.0.0:8080", "--listen", help="代理监听地址:端口"),
    cache_dir: Path = typer.Option(Path("/var/cache/nginx/hall-media"), "--cache-dir", help="缓存目录"),
    cache_size: str = typer.Option("20g", "--cache-size", help="缓存上限，如 20g、500m"),
    upstream_ca: Optional[Path] = typer.Option(None, "--upstream-ca", help="上游为 HTTPS 时用于校验的 CA 证书"),
    user: str = typer.Option("www-data", "--user", help="nginx 工作进程的系统用户（完整配置文件用）"),
    snippet: bool = typer.Option(False, "--snippet",
                                 help="只写 http 段内容（放入 /etc/nginx/conf.d/），默认写完整的 nginx.conf"),
) -> None:
    """生成 nginx 缓存反向代理配置：缓存已发布媒体 /media/，其余路径直通管理后台。"""
    from admin.proxy_config import ProxyConfigError, ProxySettings, write_config

    try:
        settings = ProxySettings(upstream=upstream, listen=listen, cache_dir=cache_dir, cache_size=cache_size,
                                 upstream_ca=upstream_ca, user=user)
    except ProxyConfigError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    write_config(file, settings, snippet=snippet)
    try:
        # nginx creates only the last level itself (owned by its worker user).
        cache_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        typer.echo(f"请先创建缓存目录的上级目录：mkdir -p {cache_dir.parent}", err=True)
    typer.echo(f"已写入 {file}；检查：nginx -t -c {file.resolve()}" if not snippet else
               f"已写入 {file}；放入 /etc/nginx/conf.d/ 后运行 nginx -t")
    # The admin builds the published manifest URLs from its own HALL_ADMIN_URL.
    typer.echo(f"管理后台和各终端的 HALL_ADMIN_URL 都要改为代理地址（http://<本机地址>:{listen.rpartition(':')[2]}），"
               "清单和媒体地址由它生成", err=True)
