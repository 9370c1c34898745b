"""Speaking: espeak-ng's ``cmn-latn-pinyin`` voice, fed tone-numbered pinyin.

Why the espeak-ng program and not pyttsx3: pyttsx3's ``save_to_file`` returns
before espeak has written the file (the next call gets the previous audio),
and a pyttsx3 engine that hangs cannot be killed from outside. A child
process per sentence is fast (about 20 ms for a sentence), its audio arrives
on stdout, and a watchdog can kill it.

Answers are spoken sentence by sentence: the first sentence is synthesised
and playing while the rest is synthesised, which keeps "end of question →
first audio" short for long answers. ``Speaker.interrupt()`` stops playback
at once and drops what was queued (a new question, or "停").
"""

from __future__ import annotations

import logging
import queue
import re
import shutil
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .pinyin import PinyinConverter

log = logging.getLogger(__name__)

VOICE = "cmn-latn-pinyin"
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


class TtsError(RuntimeError):
    """Speech could not be produced; the message says why, for operators."""


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # int16 mono
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0

    def rms(self) -> float:
        if not len(self.samples):
            return 0.0
        return float(np.sqrt(np.mean(self.samples.astype(np.float64) ** 2)))


def parse_wav(data: bytes) -> Audio:
    """espeak's --stdout WAV has placeholder sizes (it streams), so the data
    chunk runs to the end of the bytes whatever the header says."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TtsError("espeak-ng produced no WAV audio")
    channels, rate = struct.unpack("<HI", data[22:28])
    bits = struct.unpack("<H", data[34:36])[0]
    at = data.find(b"data", 12)
    if at < 0 or bits != 16:
        raise TtsError("espeak-ng produced an unexpected WAV format")
    pcm = data[at + 8:]
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    samples = np.frombuffer(pcm, dtype="<i2")
    if channels > 1:
        samples = samples[::channels]
    return Audio(samples.copy(), rate)


def write_wav(path: str | Path, audio: Audio) -> None:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.sample_rate)
        out.writeframes(audio.samples.astype("<i2").tobytes())


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


class EspeakTts:
    def __init__(self, converter: PinyinConverter | None = None, *, voice: str = VOICE, rate: int = 150,
                 timeout: float = 20.0, program: str = "espeak-ng") -> None:
        self.converter = converter or PinyinConverter()
        self.voice, self.rate, self.timeout, self.program = voice, rate, timeout, program

    def problem(self) -> str | None:
        """None when the engine can speak; otherwise what is missing and how to fix it."""
        exe = shutil.which(self.program)
        if exe is None:
            return f"找不到 {self.program}：请安装 Debian 软件包 espeak-ng（apt-get install espeak-ng）"
        try:
            voices = subprocess.run([exe, "--voices=cmn"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{self.program} 无法运行：{exc}"
        if self.voice not in voices.split():
            return f"{self.program} 没有 {self.voice} 语音：请安装完整的 espeak-ng-data 软件包"
        return None

    def synthesize(self, text: str) -> Audio:
        """Audio for the text. Raises TtsError when the engine is missing, fails
        or hangs (the watchdog kills it after ``timeout`` seconds)."""
        spoken = self.converter.to_pinyin(text)
        if not spoken.strip(" ,.;!?"):
            return Audio(np.zeros(0, dtype=np.int16), 22050)
        argv = [self.program, "-v", self.voice, "-s", str(self.rate), "--stdout", spoken]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=self.timeout)
        except FileNotFoundError as exc:
            raise TtsError(f"找不到 {self.program}：请安装 espeak-ng") from exc
        except subprocess.TimeoutExpired as exc:
            raise TtsError(f"语音合成超过 {self.timeout:.0f} 秒没有完成，已终止") from exc
        if done.returncode != 0:
            raise TtsError(f"espeak-ng 出错：{done.stderr.decode(errors='replace').strip()[:200]}")
        return parse_wav(done.stdout)

    def synthesize_to_file(self, text: str, path: str | Path) -> float:
        parts = [self.synthesize(s) for s in split_sentences(text)] or [self.synthesize(text)]
        rate = parts[0].sample_rate
        audio = Audio(np.concatenate([p.samples for p in parts]), rate)
        write_wav(path, audio)
        return audio.seconds

    def speak(self, text: str, wait: bool = True) -> None:
        speaker = Speaker(self, sink=default_sink())
        speaker.say(text)
        if wait:
            speaker.wait_idle()
        speaker.close()


class Sink(Protocol):
    def play(self, audio: Audio, stop: threading.Event) -> None:
        """Play the audio, returning early when ``stop`` is set."""


class SoundDeviceSink:
    """The default output device through PortAudio."""

    def play(self, audio: Audio, stop: threading.Event) -> None:
        import sounddevice as sd

        sd.play(audio.samples, audio.sample_rate)
        deadline = time.monotonic() + audio.seconds + 2.0  # watchdog for a stuck device
        while time.monotonic() < deadline:
            if stop.wait(0.02):
                break
            if not sd.get_stream().active:
                return
        sd.stop()


class SilentSink:
    """No speaker (servers, tests): keeps the timing of real playback so that
    interrupting and the order of events behave as with a loudspeaker."""

    def __init__(self, realtime: bool = True) -> None:
        self.realtime = realtime
        self.played: list[Audio] = []

    def play(self, audio: Audio, stop: threading.Event) -> None:
        self.played.append(audio)
        if self.realtime:
            stop.wait(audio.seconds)


def default_sink() -> Sink:
    try:
        import sounddevice as sd

        sd.query_devices(kind="output")
        return SoundDeviceSink()
    except Exception as exc:  # noqa: BLE001 - PortAudio errors are many and all mean "no speaker"
        log.warning("no audio output device (%s): speech is synthesised but not played", exc)
        return SilentSink()


@dataclass(frozen=True)
class SpeechEvent:
    text: str  # the sentence
    kind: str  # "start" (first audio of the sentence) | "done" | "interrupted" | "error"
    at: float
    detail: str = ""


class Speaker:
    """One speaking thread: say() queues text, interrupt() silences it now."""

    def __init__(self, tts: EspeakTts, *, sink: Sink | None = None,
                 on_event: Callable[[SpeechEvent], None] | None = None) -> None:
        self.tts = tts
        self.sink = sink or default_sink()
        self.on_event = on_event
        self._queue: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self._stop = threading.Event()
        self._generation = 0
        self._busy = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._thread.start()

    @property
    def speaking(self) -> bool:
        return not self._idle.is_set()

    def say(self, text: str) -> None:
        with self._lock:
            generation = self._generation
            self._idle.clear()
            for sentence in split_sentences(text) or [text]:
                self._queue.put((generation, sentence))

    def interrupt(self) -> None:
        """Stop the current sentence and forget the queued ones."""
        with self._lock:
            self._generation += 1
            self._stop.set()
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            if not self._busy.is_set():
                self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def close(self) -> None:
        self.interrupt()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _emit(self, sentence: str, kind: str, detail: str = "") -> None:
        if self.on_event is not None:
            try:
                self.on_event(SpeechEvent(sentence, kind, time.monotonic(), detail))
            except Exception:  # noqa: BLE001 - a listener must not silence the robot
                log.exception("speech event listener failed")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            generation, sentence = item
            if generation != self._generation:
                continue
            self._busy.set()
            try:
                self._speak_one(generation, sentence)
            finally:
                self._busy.clear()
                with self._lock:
                    if self._queue.empty():
                        self._idle.set()

    def _speak_one(self, generation: int, sentence: str) -> None:
        try:
            audio = self.tts.synthesize(sentence)
        except TtsError as exc:
            log.error("TTS failed for %r: %s", sentence, exc)
            self._emit(sentence, "error", str(exc))
            return
        self._stop.clear()
        if generation != self._generation:  # interrupted while synthesising
            return
        self._emit(sentence, "start")
        try:
            self.sink.play(audio, self._stop)
        except Exception as exc:  # noqa: BLE001 - a broken device must not end the robot
            log.error("audio output failed: %s", exc)
            self._emit(sentence, "error", str(exc))
            return
        self._emit(sentence, "interrupted" if self._stop.is_set() else "done")
