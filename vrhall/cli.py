"""`hall vrhall` and `hall bench vrhall`. Cheap to import: Panda3D and the
network stack are imported inside the commands."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="3D / VR 党史展厅", add_completion=False)
log = logging.getLogger("vrhall")


def _parse_size(size: str) -> tuple[int, int]:
    try:
        w, h = size.lower().split("x")
        return int(w), int(h)
    except ValueError as exc:
        raise typer.BadParameter(f"窗口大小应写成 宽x高，例如 1280x720，而不是 {size!r}") from exc


@app.callback(invoke_without_command=True)
def vrhall(
    ctx: typer.Context,
    device_id: Optional[str] = typer.Option(None, "--device-id", envvar="HALL_DEVICE_ID", help="本展厅的设备编号"),
    offscreen: bool = typer.Option(False, "--offscreen", help="不开窗口（软件渲染），用于截图和测试"),
    screenshot: Optional[Path] = typer.Option(None, "--screenshot", help="渲染一帧，保存为 PNG 后退出"),
    at: Optional[str] = typer.Option(None, "--at", help="站在这件展品前（展品编号）"),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="直接读取清单 JSON，不连网络"),
    media: Optional[Path] = typer.Option(None, "--media", help="与 --manifest 配合：按 sha256 命名的媒体目录"),
    demo: bool = typer.Option(False, "--demo", help="使用内置演示展品"),
    stereo: bool = typer.Option(False, "--stereo", help="并排立体（VR）模式"),
    openvr: bool = typer.Option(False, "--openvr", help="尝试使用 OpenVR 头显（需要 panda3d-openvr 和 SteamVR）"),
    size: str = typer.Option("1280x720", "--size", help="窗口大小"),
    tts: bool = typer.Option(False, "--tts", help="用本机 espeak-ng 朗读讲解词（字幕始终显示）"),
    fps: Optional[float] = typer.Option(None, "--fps", help="帧率上限（默认：窗口 60，无窗口 5）"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="HALL_DATA_DIR"),
) -> None:
    """运行 3D 党史展厅：按清单中的展品生成展厅，可漫游、导览，并接受机器人引导。"""
    if ctx.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    width, height = _parse_size(size)
    source = _content_source(device_id=device_id, manifest=manifest, media=media, demo=demo, data_dir=data_dir)

    from content.fonts import cjk_font_path

    from .app import HallApp, make_base
    from .stereo import openvr_message
    from .scene import HallBuilder

    headless = offscreen or screenshot is not None
    base = make_base(offscreen=headless, size=(width, height), fps=fps or (5.0 if headless else 60.0))
    builder = HallBuilder(base.loader, cjk_font_path(), source.resolve)
    hall = HallApp(base, builder, site_id=source.site_id, hall_id=source.hall_id, publish=source.publish,
                   inbox=source.inbox, stereo=stereo, interactive=screenshot is None)
    source.attach(hall)
    if tts and screenshot is None:
        hall.narrator = _narrator()
    current = source.wait_manifest(10.0 if screenshot else 0.0)
    if current is None and screenshot is not None:
        typer.echo("还没有可用的清单：请先发布展厅内容，或使用 --manifest / --demo", err=True)
        source.close()
        raise typer.Exit(2)
    report = hall.load_manifest(current) if current is not None else hall.load([])
    for note in report.skipped:
        typer.echo(f"提示：{note}", err=True)
    typer.echo(f"展厅已生成：{len(report.layout.rooms)} 个展室，{len(report.layout.placements)} 件展品，"
               f"{report.geoms} 个绘制批次，用时 {report.seconds:.2f} 秒", err=True)
    if at is not None and not hall.goto_exhibit_now(at):
        typer.echo(f"未知展品：{at}", err=True)
        source.close()
        raise typer.Exit(2)
    if screenshot is not None:
        path = hall.screenshot(screenshot)
        typer.echo(str(path))
        source.close()
        base.destroy()
        return
    if openvr:
        reason = openvr_message()
        if reason is not None:
            typer.echo(reason, err=True)
            hall.enable_stereo()
    try:
        base.run()
    finally:
        source.close()


def _content_source(*, device_id, manifest, media, demo, data_dir):
    from .sources import EndpointSource, FileSource, demo_source

    hall_id = device_id or "vrhall"
    if manifest is not None:
        from content.model import Manifest

        try:
            loaded = Manifest.model_validate_json(manifest.read_bytes())
        except (OSError, ValueError) as exc:
            typer.echo(f"无法读取清单 {manifest}: {exc}", err=True)
            raise typer.Exit(2)
        return FileSource(loaded, media or manifest.parent, hall_id)
    if demo:
        return demo_source(hall_id)
    from broker.settings import HallSettings
    from content.endpoint import EndpointError

    settings = HallSettings(**({"data_dir": data_dir} if data_dir else {}))
    if not (device_id or settings.device_id):
        typer.echo("没有设备编号：请用 --device-id 指定，或使用 --manifest / --demo", err=True)
        raise typer.Exit(2)
    try:
        return EndpointSource(settings, device_id or settings.device_id)
    except EndpointError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)


def _narrator():
    """Local speech through the robot's espeak-ng pipeline, or None with a reason."""
    try:
        from robot.tts import EspeakTts, Speaker
    except ImportError as exc:
        typer.echo(f"无法使用语音讲解（{exc}）：只显示字幕", err=True)
        return None
    engine = EspeakTts()
    problem = engine.problem()
    if problem is not None:
        typer.echo(f"{problem}：只显示字幕", err=True)
        return None
    return Speaker(engine)


# -- benchmark ------------------------------------------------------------------------

def bench(
    counts: str = typer.Option("50,200,500", help="展品数量，逗号分隔"),
    frames: int = typer.Option(120, help="每个规模测帧率的帧数"),
    size: str = typer.Option("1280x720", help="渲染分辨率"),
    json_out: bool = typer.Option(False, "--json", help="输出一行 JSON"),
) -> None:
    """展厅基准：生成时间、绘制批次、软件渲染帧率（每帧回读画面）。"""
    from .bench import run_bench

    result = run_bench([int(c) for c in counts.split(",") if c.strip()], frames=frames, size=_parse_size(size))
    if json_out:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"VR 展厅基准（{result['renderer']}，{size}，每帧回读）")
    for col in ("展品", "展室", "生成(秒)", "热重载(秒)", "首帧(秒)", "绘制批次(全部)", "视野内批次", "帧率(fps)", "帧时 p99(ms)"):
        table.add_column(col, justify="right")
    for row in result["runs"]:
        table.add_row(str(row["exhibits"]), str(row["rooms"]), f"{row['build_s']:.2f}", f"{row['reload_s']:.2f}",
                      f"{row['first_frame_s']:.2f}",
                      str(row["draw_calls_total"]), str(row["draw_calls_in_view"]), f"{row['fps']:.1f}",
                      f"{row['frame_ms_p99']:.1f}")
    Console().print(table)
    targets = result["targets"]

    def verdict(met) -> str:
        return "未测" if met is None else ("达到" if met else "未达到")

    typer.echo(f"目标：200 件展品生成 < 3 秒（{verdict(targets['build_200_under_3s'])}），"
               f"绘制批次 < 100（{verdict(targets['draw_calls_200_under_100'])}）")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
