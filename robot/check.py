"""`hall robot check`: what the robot needs, what is missing and where to put it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .settings import RobotSettings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    message: str
    optional: bool = False  # the robot still runs without it (in a reduced mode)

    def as_dict(self) -> dict:
        return asdict(self)


def check_model(model_dir: Path) -> CheckResult:
    from .asr import model_problem, supports_grammar

    problem = model_problem(model_dir)
    if problem:
        return CheckResult("语音识别模型", False, problem + "（没有模型时机器人只能用文字输入）")
    mode = "支持语法偏置" if supports_grammar(model_dir) else "大模型，不支持语法，使用自由识别"
    return CheckResult("语音识别模型", True, f"{model_dir}（{mode}）")


def check_microphone(device: str | None) -> CheckResult:
    from .audio import Microphone

    problem = Microphone.problem(device)
    if problem:
        return CheckResult("麦克风", False, f"{problem}。接上 USB 麦克风，或用 HALL_ROBOT_INPUT_DEVICE 指定设备；"
                                          "没有麦克风时机器人以文字模式运行（--text）", optional=True)
    return CheckResult("麦克风", True, "可用")


def check_speaker() -> CheckResult:
    try:
        import sounddevice as sd

        info = sd.query_devices(kind="output")
        return CheckResult("扬声器", True, str(info.get("name", "默认输出设备")))
    except Exception as exc:  # noqa: BLE001 - any PortAudio failure means "no speaker"
        return CheckResult("扬声器", False, f"没有可用的音频输出设备（{exc}）；回答只显示字幕，不播放", optional=True)


def check_voice(settings: RobotSettings) -> CheckResult:
    from .tts import EspeakTts

    problem = EspeakTts(voice=settings.robot_voice).problem()
    if problem:
        return CheckResult("语音合成", False, problem)
    return CheckResult("语音合成", True, f"espeak-ng，语音 {settings.robot_voice}")


def check_overrides(path: Path) -> CheckResult:
    from .pinyin import OverrideError, load_overrides

    if not path.exists():
        return CheckResult("拼音覆盖表", True, f"未使用（可在 {path} 放置 YAML：词语: 带声调数字的拼音）", optional=True)
    try:
        table = load_overrides(path)
    except OverrideError as exc:
        return CheckResult("拼音覆盖表", False, str(exc), optional=True)
    return CheckResult("拼音覆盖表", True, f"{path}：{len(table)} 条")


def check_encoder(name: str) -> CheckResult:
    from .semantic import EncoderUnavailable, load_encoder

    if name == "none":
        return CheckResult("句向量模型", True, "未启用（HALL_ROBOT_ENCODER=none）：只按关键词检索，换种说法的问题更容易答不上",
                           optional=True)
    try:
        encoder = load_encoder(name)
    except EncoderUnavailable as exc:
        return CheckResult("句向量模型", False, f"{exc}；没有它机器人仍按关键词检索", optional=True)
    return CheckResult("句向量模型", True, f"{encoder.name}（离线，随软件包安装）")


def run_checks(settings: RobotSettings, *, model_dir: Path | None = None) -> list[CheckResult]:
    return [
        check_model(model_dir or settings.vosk_model_dir),
        check_microphone(settings.robot_input_device),
        check_speaker(),
        check_voice(settings),
        check_overrides(settings.pinyin_overrides_file),
        check_encoder(settings.robot_encoder),
    ]
