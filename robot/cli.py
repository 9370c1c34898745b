"""`hall robot …`: the guide robot's commands. Cheap to import: every engine
(jieba, vosk, sounddevice, espeak) is imported inside the command that uses it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="导览机器人：语音问答、引导、人脸签到", invoke_without_command=True, add_completion=False)

try:  # face check-in lives in its own package, built separately; the robot works without it
    from robot.face.cli import app as _face_app
except Exception:  # noqa: BLE001 - any import failure just hides the sub-command
    _face_app = None
if _face_app is not None:
    app.add_typer(_face_app, name="face", help="人脸签到")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _load_kb(kb: Optional[Path]):
    from .knowledge import KnowledgeError, load_kb

    if kb is None:
        _fail("请用 --kb 指定知识库文件（YAML 或 JSON，格式见 robot/README.md）")
    try:
        return load_kb(kb)
    except KnowledgeError as exc:
        _fail(f"知识库读取失败：{exc}")


@app.callback()
def main(
    ctx: typer.Context,
    device_id: Optional[str] = typer.Option(None, "--device-id", envvar="HALL_DEVICE_ID", help="设备编号"),
    text: Optional[str] = typer.Option(None, "--text", help="直接输入一句话（不用麦克风）"),
    wav: Optional[Path] = typer.Option(None, "--wav", help="从 WAV 文件识别语音"),
    kb: Optional[Path] = typer.Option(None, "--kb", help="知识库文件；不给则用已应用的清单"),
    mic: bool = typer.Option(False, "--mic", help="使用麦克风（按回车键说话）"),
    no_speak: bool = typer.Option(False, "--no-speak", help="不播放语音，只输出文字"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
    once: bool = typer.Option(False, "--once", help="处理完 --text/--wav 后退出，不连接消息服务器"),
    camera: Optional[str] = typer.Option(None, "--camera",
                                         help="开启人脸签到：摄像头设备号、RTSP 地址或视频文件"),
) -> None:
    """运行导览机器人：听（麦克风/WAV/文字）、理解、回答，并引导参观者去展品。"""
    if ctx.invoked_subcommand is not None:
        return
    from .runner import run_robot

    raise typer.Exit(run_robot(device_id=device_id, text=text, wav=wav, kb_file=kb, mic=mic, speak=not no_speak,
                               data_dir=data_dir, once=once, camera=camera))


@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, help="问题"),
    kb: Optional[Path] = typer.Option(None, "--kb", help="知识库文件（YAML 或 JSON）"),
    batch: Optional[Path] = typer.Option(None, "--batch", help="每行一个问题的文本文件"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """回答一个问题（或 --batch 文件中的每一行），不用麦克风和消息服务器。"""
    from .dialogue import DialogueManager, Session

    from .settings import RobotSettings

    knowledge = _load_kb(kb)
    manager = DialogueManager(knowledge, encoder=RobotSettings().robot_encoder)
    if batch is not None:
        try:
            questions = [line.strip() for line in batch.read_text(encoding="utf-8").splitlines()]
        except OSError as exc:
            _fail(f"无法读取 {batch}: {exc.strerror or exc}")
        questions = [q for q in questions if q]
    elif question is not None:
        questions = [question]
    else:
        _fail("请给出一个问题，或用 --batch 指定问题文件")
    for q in questions:
        # Each line of a batch is a fresh visitor: no follow-up state leaks between them.
        reply = manager.respond(q, Session())
        data = {"question": q, **reply.as_dict()}
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False))
        else:
            typer.echo(f"[{reply.intent} {reply.score or 0:.2f}] {reply.text}")


@app.command()
def say(
    text: str = typer.Argument(..., help="要说的中文"),
    out: Optional[Path] = typer.Option(None, "--out", help="写入 WAV 文件而不是播放"),
    show_pinyin: bool = typer.Option(False, "--pinyin", help="只输出拼音"),
    overrides: Optional[Path] = typer.Option(None, "--overrides", help="拼音覆盖表 (YAML)"),
) -> None:
    """用 espeak-ng 的 cmn-latn-pinyin 语音说一句中文（或输出拼音）。"""
    from .pinyin import PinyinConverter, load_overrides
    from .tts import EspeakTts, TtsError

    converter = PinyinConverter(load_overrides(overrides) if overrides else {})
    if show_pinyin:
        typer.echo(converter.to_pinyin(text))
        return
    tts = EspeakTts(converter)
    try:
        if out is not None:
            seconds = tts.synthesize_to_file(text, out)
            typer.echo(f"已写入 {out}（{seconds:.1f} 秒）")
        else:
            tts.speak(text, wait=True)
    except TtsError as exc:
        _fail(str(exc))


@app.command()
def listen(
    wav: Path = typer.Argument(..., help="16 kHz 单声道 WAV（其他格式会转换）"),
    model: Optional[Path] = typer.Option(None, "--model", help="Vosk 模型目录"),
    phrases: Optional[Path] = typer.Option(None, "--phrases", help="语法模式的短语表（每行一个）"),
    kb: Optional[Path] = typer.Option(None, "--kb", help="用知识库的问题和展品名做语法"),
) -> None:
    """识别一个 WAV 文件里的语音，每句输出一行文字。"""
    from .asr import AsrError, VoskRecognizer, grammar_from_kb
    from .audio import AudioError, read_wav, segment_utterances
    from .settings import RobotSettings

    settings = RobotSettings()
    grammar = None
    if phrases is not None:
        grammar = [p.strip() for p in phrases.read_text(encoding="utf-8").splitlines() if p.strip()]
    elif kb is not None:
        grammar = grammar_from_kb(_load_kb(kb))
    try:
        recognizer = VoskRecognizer.load(model or settings.vosk_model_dir, grammar=grammar,
                                         limits=settings.decoder_limits)
        audio = read_wav(wav)
        for utterance in segment_utterances(audio, max_seconds=settings.robot_max_utterance_s):
            typer.echo(recognizer.transcribe(utterance).text)
    except (AsrError, AudioError) as exc:
        _fail(str(exc))


@app.command()
def check(
    data_dir: Optional[Path] = typer.Option(None, envvar="HALL_DATA_DIR"),
    model: Optional[Path] = typer.Option(None, "--model", help="Vosk 模型目录"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """检查语音识别模型、音频设备、espeak-ng 语音是否就绪，缺什么、放哪里。"""
    from .check import run_checks
    from .settings import RobotSettings

    settings = RobotSettings(**({"data_dir": data_dir} if data_dir else {}))
    results = run_checks(settings, model_dir=model)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
    else:
        for r in results:
            typer.echo(f"{'✓' if r.ok else '✗'} {r.name}: {r.message}")
    if not all(r.ok or r.optional for r in results):
        raise typer.Exit(1)


def bench(
    as_json: bool = typer.Option(False, "--json", help="输出一行 JSON"),
    kb: Optional[Path] = typer.Option(None, "--kb", help="知识库（默认用测试知识库）"),
    entries: int = typer.Option(1000, help="排序基准的 FAQ 条数"),
    skip_asr: bool = typer.Option(False, "--skip-asr", help="不测语音识别"),
) -> None:
    """机器人基准：ASR 实时率、语音结束到回答首个音频、1000 条 FAQ 排序耗时、FAQ 准确率。"""
    from .bench import render, run_bench

    result = run_bench(kb_file=kb, entries=entries, asr=not skip_asr)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        render(result)
