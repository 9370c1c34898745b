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
