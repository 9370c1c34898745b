"""Audio in: WAV files, the microphone, and cutting speech into utterances.

Vosk wants 16 kHz mono 16-bit PCM; anything else is converted here. webrtcvad
(voice activity detection) marks 30 ms frames as speech or not; an utterance
starts when most of the last 300 ms is speech and ends after 600 ms of
silence, so a short pause inside a sentence does not cut it. An utterance is
capped (60 s by default): a monologue is cut there and the rest is treated
as the next utterance, so memory and latency stay bounded.
"""

from __future__ import annotations

import collections
import logging
import queue
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

log = logging.getLogger(__name__)

RATE = 16000
FRAME_MS = 30
FRAME = RATE * FRAME_MS // 1000  # samples per VAD frame


class AudioError(RuntimeError):
    """Audio that cannot be read or a device that cannot be opened; the message is for operators."""


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Band-limited resampling through the spectrum (no aliasing from plain
    interpolation, which hurts recognition of synthetic speech)."""
    if rate == target or not len(samples):
        return samples.astype(np.int16)
    n = int(round(len(samples) * target / rate))
    spectrum = np.fft.rfft(samples.astype(np.float64))
    keep = min(n // 2 + 1, len(spectrum))
    out = np.zeros(n // 2 + 1, dtype=complex)
    out[:keep] = spectrum[:keep]
    result = np.fft.irfft(out, n) * (n / len(samples))
    return np.clip(np.round(result), -32768, 32767).astype(np.int16)


def read_wav(path: str | Path) -> np.ndarray:
    """16 kHz mono int16 samples from a PCM WAV file of any rate and channel count."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except FileNotFoundError as exc:
        raise AudioError(f"找不到音频文件 {path}") from exc
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"{path} 不是可读的 PCM WAV 文件：{exc}") from exc
    if width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.int32)
    elif width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4") >> 16
    else:
        raise AudioError(f"{path}: 不支持 {width * 8} 位采样")
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels).mean(axis=1)
    return resample(np.asarray(samples, dtype=np.int16), rate)


def frames(samples: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(samples) - FRAME + 1, FRAME):
        yield samples[start:start + FRAME]


@dataclass
class VadSettings:
    aggressiveness: int = 2
    start_window: int = 10      # frames (300 ms) looked at to decide speech has started
    start_ratio: float = 0.7
    end_silence: int = 20       # frames (600 ms) of silence that end an utterance
    min_speech_frames: int = 8  # shorter bursts (a cough, a click) are dropped


class UtteranceCutter:
    """Feed 30 ms frames; collect finished utterances. Works the same on a
    file and on a live microphone."""

    def __init__(self, *, max_seconds: float = 60.0, settings: VadSettings | None = None) -> None:
        import webrtcvad

        self.settings = settings or VadSettings()
        self.vad = webrtcvad.Vad(self.settings.aggressiveness)
        self.max_frames = max(1, int(max_seconds * 1000 / FRAME_MS))
        self._window: collections.deque[tuple[np.ndarray, bool]] = collections.deque(maxlen=self.settings.start_window)
        self._current: list[np.ndarray] | None = None
        self._voiced = 0
        self._silence = 0
        self.capped = 0
        self.speech_started = False  # set on the frame where speech begins (to interrupt the robot)

    def push(self, frame: np.ndarray) -> np.ndarray | None:
        """One frame in; a finished utterance out, or None."""
        s = self.settings
        is_speech = self.vad.is_speech(frame.astype("<i2").tobytes(), RATE)
        self.speech_started = False
        if self._current is None:
            self._window.append((frame, is_speech))
            voiced = sum(1 for _, v in self._window if v)
            if len(self._window) == self._window.maxlen and voiced >= s.start_ratio * len(self._window):
                self._current = [f for f, _ in self._window]
                self._voiced, self._silence = voiced, 0
                self._window.clear()
                self.speech_started = True
            return None
        self._current.append(frame)
        self._voiced += is_speech
        self._silence = 0 if is_speech else self._silence + 1
        if len(self._current) >= self.max_frames:
            self.capped += 1
            log.warning("utterance reached the %d s cap: cut here", self.max_frames * FRAME_MS // 1000)
            return self._finish()
        if self._silence >= s.end_silence:
            return self._finish()
        return None

    @property
    def in_utterance(self) -> bool:
        return self._current is not None

    def flush(self) -> np.ndarray | None:
        return self._finish() if self._current is not None else None

    def _finish(self) -> np.ndarray | None:
        current, voiced = self._current or [], self._voiced
        self._current, self._voiced, self._silence = None, 0, 0
        if voiced < self.settings.min_speech_frames:
            return None
        return np.concatenate(current)


def segment_utterances(samples: np.ndarray, *, max_seconds: float = 60.0,
                       settings: VadSettings | None = None) -> list[np.ndarray]:
    cutter = UtteranceCutter(max_seconds=max_seconds, settings=settings)
    out = [u for u in (cutter.push(f) for f in frames(samples)) if u is not None]
    last = cutter.flush()
    if last is not None:
        out.append(last)
    return out


class Microphone:
    """Frames from the default (or named) input device through PortAudio."""

    def __init__(self, device: str | int | None = None) -> None:
        self.device = device
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=2000)
        self._stream = None

    @staticmethod
    def problem(device: str | int | None = None) -> str | None:
        """None if a microphone can be opened, else what is wrong."""
        try:
            import sounddevice as sd
        except OSError as exc:  # PortAudio library missing
            return f"无法加载 PortAudio（请安装 libportaudio2）：{exc}"
        try:
            info = sd.query_devices(device, kind="input")
        except Exception as exc:  # noqa: BLE001 - PortAudio raises several kinds
            return f"没有可用的麦克风：{exc}"
        if not info or info.get("max_input_channels", 0) < 1:
            return "没有可用的麦克风"
        return None

    def __enter__(self) -> "Microphone":
        import sounddevice as sd

        problem = self.problem(self.device)
        if problem:
            raise AudioError(problem)

        def callback(indata, count, time_info, status) -> None:  # PortAudio thread: only hand over
            try:
                self._queue.put_nowait(indata[:, 0].copy())
            except queue.Full:
                pass

        self._stream = sd.InputStream(samplerate=RATE, channels=1, dtype="int16", blocksize=FRAME,
                                      device=self.device, callback=callback)
        self._stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()

    def frames(self, timeout: float = 1.0) -> Iterable[np.ndarray]:
        while True:
            try:
                yield self._queue.get(timeout=timeout)
            except queue.Empty:
                return
