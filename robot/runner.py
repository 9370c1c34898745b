"""`hall robot`: assembles settings, knowledge, engines and the broker around
``RobotService`` and feeds it text, a WAV file or the microphone.

Input modes and why push-to-talk: the hall is noisy and the robot talks
itself; a wake phrase spotted by a small offline model fires on crowd noise
and on the robot's own voice, and a visitor does not know the phrase. A
button (the kiosk's talk button, or Enter on the console) is unambiguous:
press, speak, and voice activity detection ends the utterance after a short
silence. Typed text works in every mode, so the robot stays useful without
a microphone or a model.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

from .dialogue import DialogueManager
from .knowledge import KnowledgeBase, KnowledgeError, kb_from_manifest, load_kb
from .service import NullClient, RobotService
from .settings import RobotSettings

log = logging.getLogger("robot")

LISTEN_SECONDS = 10.0  # push-to-talk: how long to wait for speech after the button


def _echo(text: str) -> None:
    print(f"机器人：{text}", flush=True)


def build_speaker(settings: RobotSettings, enabled: bool):
    if not enabled:
        return None
    from .pinyin import OverrideError, PinyinConverter, load_overrides
    from .tts import EspeakTts, Speaker

    overrides: dict[str, str] = {}
    if settings.pinyin_overrides_file.exists():
        try:
            overrides = load_overrides(settings.pinyin_overrides_file)
        except OverrideError as exc:
            log.error("%s (pinyin overrides ignored)", exc)
    tts = EspeakTts(PinyinConverter(overrides), voice=settings.robot_voice, rate=settings.robot_speech_rate,
                    timeout=settings.robot_tts_timeout_s)
    problem = tts.problem()
    if problem:
        log.error("%s：机器人只显示文字，不说话", problem)
        return None
    return Speaker(tts)


def load_recognizer(settings: RobotSettings, kb: KnowledgeBase | None):
    from .asr import AsrError, VoskRecognizer, grammar_from_kb

    try:
        return VoskRecognizer.load(settings.vosk_model_dir, grammar=grammar_from_kb(kb) if kb else None,
                                   limits=settings.decoder_limits, free_alongside=settings.robot_asr_free_alongside)
    except AsrError as exc:
        log.error("%s", exc)
        return None


def run_robot(*, device_id: str | None, text: str | None, wav: Path | None, kb_file: Path | None, mic: bool,
              speak: bool, data_dir: Path | None, once: bool, camera: str | None = None) -> int:
    from broker.cli import setup_logging

    setup_logging()
    settings = RobotSettings(**({"data_dir": data_dir} if data_dir else {}))
    kb_path = kb_file or settings.robot_kb_file
    kb: KnowledgeBase | None = None
    if kb_path is not None:
        try:
            kb = load_kb(kb_path)
        except KnowledgeError as exc:
            print(f"知识库读取失败：{exc}", file=sys.stderr)
            return 2
    try:
        return asyncio.run(_main(settings, device_id or settings.device_id or "robot-1", kb, text=text, wav=wav,
                                 mic=mic, speak=speak, once=once, camera=camera))
    except KeyboardInterrupt:
        return 0


async def _main(settings: RobotSettings, device_id: str, kb: KnowledgeBase | None, *, text: str | None,
                wav: Path | None, mic: bool, speak: bool, once: bool, camera: str | None = None,
                speaker: Any = None, stop: asyncio.Event | None = None) -> int:
    """``speaker`` and ``stop`` let a test run the whole service in-process."""
    speaker = speaker if speaker is not None else build_speaker(settings, speak)
    endpoint = None
    client: Any = NullClient()
    if not once:
        endpoint, client = _connect(settings, device_id, kb)
    service = RobotService(site_id=settings.site_id, device_id=device_id, client=client,
                           kb=kb or KnowledgeBase(source="empty"), speaker=speaker, hall_id=settings.robot_hall_id,
                           session_timeout=settings.robot_session_timeout_s,
                           guide_expiry=settings.robot_guide_expiry_s, on_say=_echo,
                           encoder=settings.robot_encoder)
    if kb is None:
        log.warning("还没有知识库：等待已应用的清单（或用 --kb 指定文件）")
    loop = asyncio.get_running_loop()
    if endpoint is not None and kb is None:
        follow_manifest(endpoint, service, loop)
    # Face check-in attaches before the endpoint starts: starting replays the cached manifest.
    face = await prepare_face_checkin(settings, endpoint, camera, service, once=once) if camera else None
    if not once:
        service.subscribe()
        await (endpoint.start() if endpoint is not None else client.start())
    if face is not None:
        face.start()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    timeout_task = asyncio.create_task(_session_timeouts(service, stop))
    code = 0
    try:
        if text is not None:
            await service.handle_text(text)
            await _settle(service, speaker, stop, wait_guides=not once, limit=settings.robot_guide_expiry_s)
        elif wav is not None:
            code = await _from_wav(service, settings, kb, wav)
            await _settle(service, speaker, stop, wait_guides=not once, limit=settings.robot_guide_expiry_s)
        else:
            await _interactive(service, settings, kb, mic, stop, once=once)
    finally:
        timeout_task.cancel()
        if face is not None:
            await face.stop()
        if speaker is not None:
            speaker.close()
        if endpoint is not None:
            await endpoint.stop()
        elif not once:
            await client.stop()
    return code


async def prepare_face_checkin(settings: RobotSettings, endpoint, camera: str, service: RobotService, *,
                               once: bool = False):
    """The face check-in agent inside this process (robot/face/service.py), or None
    with a Chinese reason: the voice guide runs either way."""
    if once:
        print("人脸签到需要连接消息服务器，不能与 --once 同用；本次只做语音问答。", flush=True)
        return None
    if endpoint is None:
        print("人脸签到需要已登记的设备（会议来自清单，人脸库包来自管理端）：请设置 HALL_DEVICE_ID、"
              "HALL_GROUPS 和 HALL_PUBLIC_KEY；语音导览照常运行。", flush=True)
        return None
    from .face.service import FaceCheckInService

    face = FaceCheckInService(settings=settings, endpoint=endpoint, camera=camera, say=service.say,
                              place=settings.robot_place)
    return face if await face.prepare() else None


def follow_manifest(endpoint, service: RobotService, loop: asyncio.AbstractEventLoop) -> None:
    """Each applied manifest becomes the robot's knowledge base. Indexing takes
    about a second (jieba, BM25), so it is built off the loop, then swapped in."""

    def on_manifest(manifest) -> None:
        new_kb = kb_from_manifest(manifest)
        future = loop.run_in_executor(None, functools.partial(DialogueManager, new_kb, encoder=service.encoder))

        def swap(done) -> None:
            if done.exception() is not None:
                log.error("knowledge base from manifest v%s failed: %s", manifest.version, done.exception())
            else:
                service.set_kb(new_kb, done.result())

        future.add_done_callback(swap)

    endpoint.on_manifest = on_manifest


def _connect(settings: RobotSettings, device_id: str, kb: KnowledgeBase | None):
    """An Endpoint when the device is provisioned (it brings the manifest);
    a plain client when only a knowledge-base file is given."""
    from broker.client import HallClient
    from content.endpoint import Endpoint, EndpointError

    try:
        endpoint = Endpoint(settings, kind="robot", device_id=device_id)
        return endpoint, endpoint.client
    except EndpointError as exc:
        if kb is None:
            log.error("%s；也没有 --kb 知识库文件，机器人无法回答问题", exc)
        else:
            log.warning("%s：只连接消息服务器，不跟随清单", exc)
    return None, HallClient(settings, client_id=device_id, kind="robot")


async def _session_timeouts(service: RobotService, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(1.0)
        service.expire_session()


async def _settle(service: RobotService, speaker, stop: asyncio.Event, *, wait_guides: bool,
                  limit: float = 60.0) -> None:
    """After a one-shot input: wait for the hall to finish guiding and the robot to finish speaking."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not stop.is_set():
        guiding = wait_guides and not service.idle()
        talking = speaker is not None and speaker.speaking
        if not guiding and not talking:
            return
        await asyncio.sleep(0.1)
    if not service.idle():
        print("机器人：展厅没有回应导览请求。", flush=True)


async def _from_wav(service: RobotService, settings: RobotSettings, kb, wav: Path) -> int:
    from .audio import AudioError, read_wav, segment_utterances

    recognizer = load_recognizer(settings, kb)
    if recognizer is None:
        print("没有语音识别模型，无法识别 WAV 文件；运行 `hall robot check` 查看需要放置的模型", file=sys.stderr)
        return 2
    try:
        samples = read_wav(wav)
    except AudioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    utterances = segment_utterances(samples, max_seconds=settings.robot_max_utterance_s)
    if not utterances:
        print("机器人：没有听到说话声。", flush=True)
    for utterance in utterances:
        heard = await asyncio.to_thread(recognizer.transcribe, utterance)
        print(f"听到：{heard.text or '（没听清）'}", flush=True)
        if heard.text:
            await service.handle_text(heard.text)
    return 0


async def _interactive(service: RobotService, settings: RobotSettings, kb, mic: bool, stop: asyncio.Event, *,
                       once: bool = False) -> None:
    recognizer = None
    if mic:
        from .audio import Microphone

        problem = Microphone.problem(settings.robot_input_device)
        if problem:
            print(f"{problem}：改用文字模式，请直接输入问题。", flush=True)
        else:
            recognizer = load_recognizer(settings, kb)
            if recognizer is None:
                print("没有语音识别模型：改用文字模式（`hall robot check` 说明模型放在哪里）。", flush=True)
    if once and (not sys.stdin or not sys.stdin.isatty()):
        return
    if not sys.stdin or not sys.stdin.isatty():
        # Under the supervisor: no console. Serve the hall (guide status, sessions) until stopped.
        await stop.wait()
        return
    prompt = "请输入问题（直接回车开始说话）：" if recognizer else "请输入问题："
    while not stop.is_set():
        line = await asyncio.to_thread(_read_line, prompt)
        if line is None:
            return
        if line.strip():
            await service.handle_text(line)
        elif recognizer is not None:
            if service.speaker is not None:
                service.speaker.interrupt()
            heard = await asyncio.to_thread(listen_once, recognizer, settings)
            print(f"听到：{heard or '（没听清）'}", flush=True)
            if heard:
                await service.handle_text(heard)


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def listen_once(recognizer, settings: RobotSettings, open_mic=None) -> str:
    """Push-to-talk: wait for speech, decode while the visitor speaks (so only
    the tail is left at the end), stop at the VAD's end of utterance."""
    from .audio import AudioError, Microphone, UtteranceCutter

    cutter = UtteranceCutter(max_seconds=settings.robot_max_utterance_s)
    deadline = time.monotonic() + LISTEN_SECONDS
    stream, pending = None, []
    try:
        with (open_mic or Microphone)(settings.robot_input_device) as mic:
            for frame in mic.frames():
                pending.append(frame)
                utterance = cutter.push(frame)
                if cutter.speech_started:
                    stream = recognizer.stream()
                    pending = pending[-cutter.settings.start_window:]
                if stream is not None and pending:
                    for queued in pending:
                        stream.feed(queued)
                    pending = []
                if utterance is not None:
                    return stream.finish().text if stream is not None else recognizer.transcribe(utterance).text
                if stream is None and len(pending) > cutter.settings.start_window:
                    pending = pending[-cutter.settings.start_window:]
                if time.monotonic() > deadline and not cutter.in_utterance:
                    return ""
    except AudioError as exc:
        print(str(exc), flush=True)
    return ""
