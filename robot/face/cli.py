"""``hall robot face ...`` commands and the ``hall bench face`` benchmark.

Cheap to import: cv2, dlib and numpy load inside the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="人脸签到：识别、调阈值、运行签到", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """人脸签到 (keeps ``identify`` a sub-command even while it is the only one)."""


def _config(detector: Optional[str], threshold: Optional[float]):
    from .config import FaceConfig

    overrides = {}
    if detector:
        overrides["detector"] = detector
    if threshold is not None:
        overrides["threshold"] = threshold
    return FaceConfig(**overrides)


@app.command()
def identify(
    images: list[Path] = typer.Argument(..., help="要识别的图片"),
    gallery: Path = typer.Option(..., "--gallery", help="照片库目录：每人一个子目录"),
    as_json: bool = typer.Option(False, "--json", help="每张图片输出一行 JSON"),
    threshold: Optional[float] = typer.Option(None, help="距离阈值（默认用模型公布的工作点）"),
    detector: Optional[str] = typer.Option(None, help="haar | hog | yunet"),
) -> None:
    """识别图片中的人：与照片库比对，输出人名（未知为 null）和距离。"""
    from .enrolment import folder_gallery, read_image
    from .errors import FaceError
    from .pipeline import FacePipeline

    config = _config(detector, threshold)
    try:
        pipeline = FacePipeline.from_config(config)
        known, warnings = folder_gallery(pipeline, gallery, threshold=config.threshold, min_margin=config.min_margin)
    except FaceError as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc
    for warning in warnings:
        typer.echo(f"警告: {warning}", err=True)
    for image_path in images:
        record = identify_one(pipeline, known, image_path, read_image)
        if as_json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            who = record["person"] or "未知"
            dist = "-" if record["distance"] is None else f"{record['distance']:.3f}"
            extra = f" ({record['problem']})" if record.get("problem") else ""
            typer.echo(f"{image_path}: {record['faces']} 张人脸, 识别为 {who}, 距离 {dist}{extra}")
    sys.stdout.flush()


def identify_one(pipeline, known, image_path: Path, read_image) -> dict:
    """One JSON-ready record; the top-level person is the largest face's."""
    from .errors import FaceError

    record: dict = {"image": str(image_path), "faces": 0, "person": None, "distance": None,
                    "metric": known.metric, "threshold": known.threshold, "matches": []}
    try:
        frame = pipeline.analyse(read_image(image_path))
    except FaceError as exc:
        record["problem"] = str(exc)
        return record
    record["faces"] = len(frame.faces)
    if frame.problem:
        record["problem"] = frame.problem
    for face in frame.faces:
        match = known.search(face.vector)
        record["matches"].append({
            "person": match.member.member_id if match.member else None,
            "distance": None if match.distance == float("inf") else round(match.distance, 4),
            "nearest": match.nearest.member_id if match.nearest else None,
            "box": [face.box.x, face.box.y, face.box.w, face.box.h],
        })
    if record["matches"]:
        first = record["matches"][0]
        record["person"], record["distance"] = first["person"], first["distance"]
    return record


@app.command("new-key")
def new_key() -> None:
    """生成人脸库密钥（写入 HALL_FACE_VAULT_KEY 或放在人脸库目录之外的密钥文件）。"""
    from .crypto import generate_key

    typer.echo(generate_key())


def _vault():
    from .config import FaceConfig
    from .errors import FaceError
    from .vault import EmbeddingVault

    try:
        return EmbeddingVault.from_config(FaceConfig())
    except FaceError as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def enrol(
    member_id: str = typer.Argument(..., help="党员编号"),
    name: str = typer.Argument(..., help="姓名"),
    photos: list[Path] = typer.Argument(..., help="1 到 5 张本人正面照片"),
    consent: bool = typer.Option(False, "--consent", help="已取得本人书面同意（必填）"),
    consent_by: Optional[str] = typer.Option(None, help="记录同意的经办人"),
    merge: bool = typer.Option(False, help="与已有特征合并（默认替换）"),
) -> None:
    """录入人脸：只保存加密的特征值；照片默认不保存。"""
    from .config import FaceConfig
    from .errors import FaceError
    from .pipeline import FacePipeline

    vault = _vault()
    try:
        record = vault.enrol_photos(FacePipeline.from_config(FaceConfig()), member_id, name,
                                    [p.read_bytes() for p in photos], consent=consent, consent_by=consent_by,
                                    replace=not merge)
    except (FaceError, OSError) as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        vault.close()
    typer.echo(f"已录入 {record.name} ({record.member_id})：{record.embeddings} 条特征，{record.photos} 张照片")


@app.command()
def delete(member_id: str = typer.Argument(..., help="党员编号")) -> None:
    """删除成员的全部人脸特征和照片（撤回同意或删除成员时）。"""
    vault = _vault()
    try:
        found = vault.delete_member(member_id)
    finally:
        vault.close()
    typer.echo(f"已删除 {member_id} 的全部人脸数据" if found else f"人脸库中没有 {member_id}")


@app.command("list")
def list_members() -> None:
    """列出已录入人脸的成员（不显示任何特征值）。"""
    import datetime as dt

    vault = _vault()
    try:
        for m in vault.members():
            when = dt.datetime.fromtimestamp(m.consent_at).strftime("%Y-%m-%d %H:%M")
            typer.echo(f"{m.member_id}\t{m.name}\t同意于 {when}\t{m.embeddings} 条特征\t{m.photos} 张照片")
    finally:
        vault.close()


@app.command()
def run(
    meetings: Path = typer.Option(..., help="会议列表 JSON 文件（content.model.Meeting 的数组）"),
    camera: Optional[str] = typer.Option(None, help="摄像头设备号、RTSP 地址或视频文件（默认 HALL_FACE_CAMERA）"),
    gallery: Optional[Path] = typer.Option(None, help="照片库目录（演示用）"),
    bundle: Optional[str] = typer.Option(None, help="人脸库包：文件路径或 http(s) 地址"),
    place: Optional[str] = typer.Option(None, help="本机所在会议室"),
    speak: bool = typer.Option(True, help="用 espeak-ng 播报问候语"),
) -> None:
    """运行签到：识别到会成员，签到、问候，并把签到发给管理端（断网时存盘补发）。"""
    import asyncio
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from broker.settings import HallSettings

    from .errors import FaceError

    settings = HallSettings()
    try:
        asyncio.run(_run(settings, meetings, camera, gallery, bundle, place, speak))
    except FaceError as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        pass


async def _run(settings, meetings_file: Path, camera, gallery_dir, bundle, place, speak) -> None:
    import asyncio
    import json as _json

    from pydantic import TypeAdapter

    from broker.client import HallClient
    from content.model import Meeting

    from .agent import CheckInAgent
    from .camera import FrameSource
    from .config import FaceConfig
    from .enrolment import folder_gallery
    from .errors import FaceError
    from .outbox import CheckInOutbox
    from .pipeline import FacePipeline

    config = FaceConfig()
    device_id = settings.device_id or "robot-1"
    pipeline = FacePipeline.from_config(config)
    if gallery_dir is not None:
        known, warnings = folder_gallery(pipeline, gallery_dir, threshold=config.threshold,
                                         min_margin=config.min_margin)
        for warning in warnings:
            typer.echo(f"警告: {warning}", err=True)
    elif bundle is not None:
        known = _load_bundle(bundle, settings, config, pipeline)
    else:
        raise FaceError("需要 --gallery 或 --bundle")
    try:
        meeting_list = TypeAdapter(list[Meeting]).validate_python(_json.loads(meetings_file.read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise FaceError(f"会议列表无法读取: {meetings_file}: {exc}") from exc
    tts = None
    if speak:
        from robot.tts import EspeakTts

        tts = EspeakTts()
        if tts.problem() is not None:
            typer.echo(f"警告: {tts.problem()}", err=True)
            tts = None

    async def greet(text: str) -> None:
        typer.echo(text)
        if tts is not None:
            await asyncio.to_thread(tts.speak, text)

    client = HallClient(settings, client_id=device_id, kind="robot", groups=settings.groups)
    agent = CheckInAgent(config=config, site_id=settings.site_id, device_id=device_id, pipeline=pipeline,
                         gallery=known, meetings=lambda: meeting_list, outbox=CheckInOutbox(config.outbox_dir),
                         publish=client.publish, greet=greet, status=lambda text: typer.echo(text), place=place)
    agent.attach(client)
    await client.start()
    try:
        stats = await agent.run(FrameSource(camera or config.camera))
        typer.echo(f"结束：处理 {stats.processed} 帧，签到 {stats.checkins} 人")
    finally:
        await client.stop()


def _load_bundle(spec: str, settings, config, pipeline):
    from .bundle import fetch_bundle, robot_seal_key, unpack_bundle
    from .errors import FaceError

    if not settings.public_key:
        raise FaceError("验证人脸库包需要公钥 (HALL_PUBLIC_KEY)")
    seal = robot_seal_key(config)
    if "://" in spec:
        cache = config.outbox_dir.parent / "face-gallery.bundle"
        found = fetch_bundle(spec, public_key=settings.public_key, seal_key=seal,
                             expected_model=pipeline.embedder.name, cache_file=cache,
                             ca_file=settings.http_ca_file)
    else:
        found = unpack_bundle(Path(spec).read_bytes(), public_key=settings.public_key, seal_key=seal,
                              expected_model=pipeline.embedder.name)
    return found.to_gallery(threshold=config.threshold, min_margin=config.min_margin)


def bench(
    photos: Optional[Path] = typer.Option(None, help="测试照片目录（默认从 PyPI 缓存）"),
    members: int = typer.Option(10_000, help="1:N 检索的合成成员数"),
    as_json: bool = typer.Option(False, "--json", help="输出一行 JSON"),
    repeat: int = typer.Option(5, help="每张照片重复次数"),
    core: Optional[int] = typer.Option(None, help="绑定到这个 CPU 核（默认当前第一个）"),
) -> None:
    """人脸签到基准：单核检测+特征、万人 1:N 检索、排队视频每分钟签到数、陌生人误识。"""
    from .bench import run_bench

    run_bench(photos=photos, members=members, as_json=as_json, repeat=repeat, core=core)
