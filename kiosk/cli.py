"""`hall kiosk` and `hall bench kiosk`. Cheap to import: pygame and the
network stack are imported inside the commands."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="触摸屏终端（pygame）", add_completion=False)
log = logging.getLogger("kiosk")


@app.callback(invoke_without_command=True)
def kiosk(
    ctx: typer.Context,
    device_id: str = typer.Option(..., "--device-id", envvar="HALL_DEVICE_ID", help="设备编号"),
    headless: bool = typer.Option(False, "--headless", help="无显示器运行（SDL dummy 驱动）"),
    script: Optional[Path] = typer.Option(None, "--script", help="回放点击/滑动/等待脚本后退出"),
    screenshot: Optional[Path] = typer.Option(None, "--screenshot", help="结束时保存截图 (PNG)"),
    portrait: bool = typer.Option(False, "--portrait", help="竖屏 1080x1920"),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="离线开发：直接读取清单 JSON"),
    media: Optional[Path] = typer.Option(None, "--media", help="--manifest 的媒体目录（文件名为 sha256），默认为清单旁的 media/"),
    demo: bool = typer.Option(False, "--demo", help="离线演示：生成演示内容"),
    fullscreen: bool = typer.Option(False, "--fullscreen", help="全屏"),
    idle: Optional[float] = typer.Option(None, "--idle", help="无人操作多少秒后进入轮播"),
    group: Optional[list[str]] = typer.Option(None, "--group", help="设备分组（默认取 HALL_GROUPS）"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="HALL_DATA_DIR", help="数据目录"),
    theme: Optional[Path] = typer.Option(None, "--theme", help="主题文件 (JSON)"),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="运行多少秒后退出"),
) -> None:
    """运行触屏智能端：新闻、通知、学习教育、三会一课、便民服务、组织地图等。"""
    if ctx.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from broker.settings import HallSettings

    overrides = {"device_id": device_id}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if group:
        overrides["groups"] = list(group)
    settings = HallSettings(**overrides)
    code = run_kiosk(settings, headless=headless, script=script, screenshot=screenshot, portrait=portrait,
                     manifest_file=manifest, media_dir=media, demo=demo, fullscreen=fullscreen, idle=idle,
                     theme=theme, seconds=seconds)
    raise typer.Exit(code)


def run_kiosk(settings, *, headless=False, script=None, screenshot=None, portrait=False, manifest_file=None,
              media_dir=None, demo=False, fullscreen=False, idle=None, theme=None, seconds=None) -> int:
    from .app import KioskApp
    from .config import KioskConfig
    from .images import directory_resolver
    from .script import ScriptError, parse
    from .script import run as run_script
    from .state import load_manifest_file

    device_id = settings.device_id
    config = KioskConfig(device_id=device_id, site_id=settings.site_id, portrait=portrait, headless=headless,
                         fullscreen=fullscreen, data_dir=settings.device_dir(device_id) / "kiosk", theme_path=theme,
                         idle_s=idle, groups=list(settings.groups), admin_url=settings.admin_url)
    steps = None
    if script is not None:
        try:
            steps = parse(Path(script).read_text(encoding="utf-8"))
        except (OSError, ScriptError) as exc:
            typer.echo(f"脚本无法读取：{exc}", err=True)
            return 2
    link = None
    manifest = None
    resolver = None
    if demo:
        from .demo import write_demo

        manifest_file = write_demo(config.data_dir / "demo")
    if manifest_file is not None:
        manifest = load_manifest_file(Path(manifest_file))
        resolver = directory_resolver(Path(media_dir) if media_dir else Path(manifest_file).parent / "media")
    kiosk_app = KioskApp(config, manifest=manifest, resolver=resolver)
    if manifest_file is None:
        from content.endpoint import EndpointError

        from .network import KioskLink

        try:
            # The link shares the app's on-disk play log and points outbox.
            link = KioskLink(settings, device_id=device_id, groups=list(settings.groups), playlog=kiosk_app.playlog,
                             outbox=kiosk_app.outbox, telemetry=lambda: dict(kiosk_app.telemetry))
        except EndpointError as exc:
            typer.echo(str(exc), err=True)
            return 2
        kiosk_app.images.resolve = link.media_path
        kiosk_app.state.monotonic = link.endpoint.monotonic  # the alert deadlines the link hands over
        kiosk_app.state.publish = link.publish
        link.start()
    try:
        kiosk_app.draw()
        import pygame

        pygame.display.flip()
        if steps is not None:
            try:
                for line in run_script(kiosk_app, steps, base=Path(script).parent):
                    log.info("script: %s", line)
            except ScriptError as exc:
                typer.echo(f"脚本失败：{exc}", err=True)
                if screenshot:
                    kiosk_app.screenshot(screenshot)
                return 1
        elif screenshot is None or seconds is not None:
            kiosk_app.run(max_seconds=seconds)
        else:
            kiosk_app.pump()
        if screenshot is not None:
            kiosk_app.screenshot(screenshot)
            typer.echo(f"截图已保存：{screenshot}")
    finally:
        if link is not None:
            link.stop()
        kiosk_app.close()
    if kiosk_app.restart_requested:
        log.info("restarting on remote command")
        os.execv(sys.executable, [sys.executable, *sys.argv])
    return 0


def bench(
    seconds: float = typer.Option(5.0, help="每项测量的时长（秒）"),
    portrait: bool = typer.Option(False, "--portrait", help="竖屏"),
    as_json: bool = typer.Option(False, "--json", help="最后一行输出 JSON"),
) -> None:
    """触摸屏基准：轮播切换帧时间 p50/p99、空闲 CPU、内存、冷启动首帧、点击响应。"""
    from .bench import run_bench, show

    result = run_bench(seconds=seconds, portrait=portrait)
    show(result)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
