"""Speech recognition with Vosk.

The model directory comes from config: production uses the operator's
vosk-model-small-cn-0.22 (supports grammars) or vosk-model-cn-0.22 (better,
but a static graph: no grammars). With a grammar the recogniser only chooses
among what the hall knows (FAQ questions, exhibit names, commands), which is
far more robust for a noisy hall. A grammar alone forces every utterance onto
one of its phrases, so a question asked in other words would come out as some
FAQ question, word for word, and be answered confidently; the grammar
therefore also holds "[unk]" where the model knows it (the Chinese models
do, the Korean stand-in does not), and an utterance with any unknown word in
it is taken from a free-form decoder that ran alongside while the visitor
spoke (``free_alongside``), so the fallback costs no re-decode after the end
of speech. Words a model does not know cannot be added, so grammar phrases
are cut into the model's own words and phrases with unknown words are dropped.

One ``Model`` is shared (it is large); a recogniser is made per utterance,
which also makes concurrent use from several threads safe.

Decoding speed. Vosk reads its beam search limits (``--beam``,
``--max-active``, ``--lattice-beam``) from the model's ``conf/model.conf``; the
API has no other way to set them. Free-form decoding on a dynamic-graph model
composes the whole language model on the fly, and its cost grows with the
number of active hypotheses, so an operator who needs it faster may narrow the
search (``DecoderLimits``): the robot then loads the model through an overlay
directory (links to the model's own files, a patched copy of model.conf) and
never edits the operator's model. Narrower means faster and, on hard audio,
less accurate; grammar mode is barely affected because its graph is tiny.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .textnorm import normalize

log = logging.getLogger(__name__)

RATE = 16000
COMMAND_PHRASES = ("停", "停下", "别说了", "再说一遍", "开始导览", "带我参观", "你好", "是的", "不是", "第一个", "第二个",
                   "第三个", "谢谢", "再见")
MODEL_HINT = ("请从 https://alphacephei.com/vosk/models 下载 vosk-model-small-cn-0.22（或 vosk-model-cn-0.22），"
              "解压后放到 {path}，或用 HALL_ROBOT_VOSK_MODEL 指向模型目录")


@dataclass(frozen=True)
class DecoderLimits:
    """Overrides for the model's beam search; None keeps the model's own value."""

    beam: float | None = None
    max_active: int | None = None
    lattice_beam: float | None = None

    def overrides(self) -> dict[str, str]:
        out = {}
        if self.beam is not None:
            out["--beam"] = f"{float(self.beam):g}"
        if self.max_active is not None:
            out["--max-active"] = str(int(self.max_active))
        if self.lattice_beam is not None:
            out["--lattice-beam"] = f"{float(self.lattice_beam):g}"
        return out


def patched_model_conf(text: str, overrides: dict[str, str]) -> str:
    """model.conf with the given options replaced (or added when missing)."""
    lines, seen = [], set()
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in overrides:
            line = f"{key}={overrides[key]}"
            seen.add(key)
        lines.append(line)
    lines.extend(f"{key}={value}" for key, value in overrides.items() if key not in seen)
    # Vosk lets --min-active exceed --max-active and then decodes with neither.
    if "--max-active" in overrides:
        limit = int(overrides["--max-active"])
        lines = [f"--min-active={min(limit, int(line.split('=', 1)[1]))}" if line.startswith("--min-active=") else line
                 for line in lines]
    return "\n".join(lines) + "\n"


def overlay_model_dir(model_dir: Path, limits: DecoderLimits, into: Path) -> Path:
    """A model directory under ``into`` that links to ``model_dir``'s files and
    carries a patched conf/model.conf."""
    into.mkdir(parents=True, exist_ok=True)
    for entry in model_dir.iterdir():
        if entry.name != "conf":
            (into / entry.name).symlink_to(entry.resolve())
    conf = into / "conf"
    conf.mkdir()
    source = model_dir / "conf"
    if source.is_dir():
        for entry in source.iterdir():
            if entry.name != "model.conf":
                (conf / entry.name).symlink_to(entry.resolve())
    original = (source / "model.conf").read_text(encoding="utf-8") if (source / "model.conf").exists() else ""
    (conf / "model.conf").write_text(patched_model_conf(original, limits.overrides()), encoding="utf-8")
    return into


class AsrError(RuntimeError):
    """The recogniser cannot run; the message tells operators what to do."""


@dataclass(frozen=True)
class Transcript:
    text: str          # normalised: no spaces between Chinese words, Arabic numbers
    raw: str           # as the model produced it
    mode: str          # "grammar" | "free"
    seconds: float     # audio length
    elapsed: float     # decoding time

    @property
    def rtf(self) -> float:
        return self.elapsed / self.seconds if self.seconds else 0.0


def model_problem(model_dir: Path) -> str | None:
    if not model_dir.is_dir():
        return f"没有语音识别模型目录 {model_dir}。" + MODEL_HINT.format(path=model_dir)
    if not (model_dir / "am").is_dir() and not (model_dir / "final.mdl").exists():
        return f"{model_dir} 不像 Vosk 模型（缺少 am/ 目录）。" + MODEL_HINT.format(path=model_dir)
    return None


def supports_grammar(model_dir: Path) -> bool:
    """Grammars need a model with a dynamic graph (HCLr.fst + Gr.fst), such as
    the small models; big models ship a static HCLG.fst."""
    graph = model_dir / "graph"
    return (graph / "HCLr.fst").exists() and (graph / "Gr.fst").exists()


UNKNOWN = "[unk]"


def rejected(raw: str) -> bool:
    """A grammar result that is not one of the hall's phrases: nothing, or a
    word the grammar could only call unknown."""
    return not raw or UNKNOWN in raw.split()


class VoskRecognizer:
    def __init__(self, model, model_dir: Path, grammar: Sequence[str] | None = None, *,
                 free_alongside: bool = True) -> None:
        self.model = model
        self.model_dir = model_dir
        self._local = threading.local()
        self.grammar_supported = supports_grammar(model_dir)
        self.grammar: list[str] | None = None
        # Stream a free-form decoder beside the grammar one (costs its real-time
        # factor of a core while the visitor speaks; saves it after).
        self.free_alongside = free_alongside
        self._worker: FreeFormWorker | None = None
        self._worker_lock = threading.Lock()
        if grammar and self.grammar_supported:
            self.grammar = self.fit_grammar(grammar)
        elif grammar:
            log.info("model %s has a static graph: free-form recognition only", model_dir.name)

    @classmethod
    def load(cls, model_dir: str | Path, *, grammar: Sequence[str] | None = None,
             limits: DecoderLimits | None = None, free_alongside: bool = True) -> "VoskRecognizer":
        model_dir = Path(model_dir)
        problem = model_problem(model_dir)
        if problem:
            raise AsrError(problem)
        try:
            import vosk
        except ImportError as exc:
            raise AsrError("没有安装 vosk：pip install vosk") from exc
        vosk.SetLogLevel(-1)
        overrides = limits.overrides() if limits else {}
        try:
            if overrides:
                # The model reads everything into memory while loading, so the
                # overlay can go as soon as the model is built.
                with tempfile.TemporaryDirectory(prefix="hall-vosk-") as tmp:
                    model = vosk.Model(str(overlay_model_dir(model_dir, limits, Path(tmp) / "model")))
                log.info("Vosk model %s loaded with %s", model_dir.name, overrides)
            else:
                model = vosk.Model(str(model_dir))
        except OSError as exc:
            raise AsrError(f"无法为语音识别模型 {model_dir} 设置解码参数：{exc}") from exc
        except Exception as exc:  # vosk raises a bare Exception when loading fails
            raise AsrError(f"无法加载语音识别模型 {model_dir}：{exc}") from exc
        return cls(model, model_dir, grammar, free_alongside=free_alongside)

    def knows(self, word: str) -> bool:
        return self.model.vosk_model_find_word(word) >= 0

    def fit_grammar(self, phrases: Iterable[str]) -> list[str]:
        """Phrases re-spelt as space-separated words the model knows; a phrase
        with an unknown word is dropped (the model would silently skip it)."""
        fitted: list[str] = []
        for phrase in phrases:
            words = self._model_words(phrase)
            if words:
                fitted.append(" ".join(words))
        fitted = list(dict.fromkeys(fitted))
        if not fitted:
            log.warning("no grammar phrase fits the model's vocabulary: free-form recognition only")
            return []
        if self.knows(UNKNOWN):
            fitted.append(UNKNOWN)
        else:
            log.info("model %s has no %s word: the grammar cannot reject what is not in it", self.model_dir.name,
                     UNKNOWN)
        return fitted

    def _model_words(self, phrase: str) -> list[str] | None:
        tokens = phrase.split()
        if len(tokens) > 1 and all(self.knows(t) for t in tokens):
            return tokens
        text = re.sub(r"[\s，。！？,.!?、；;：:“”\"'（）()]+", "", phrase)
        if not text:
            return None
        # Greedy longest match against the model's own vocabulary (Chinese
        # models have words of one to four characters).
        words, i = [], 0
        while i < len(text):
            for size in range(min(6, len(text) - i), 0, -1):
                piece = text[i:i + size]
                if self.knows(piece):
                    words.append(piece)
                    i += size
                    break
            else:
                return None
        return words

    def _recognizer(self, grammar: list[str] | None):
        """A recogniser for this thread, reused across utterances (FinalResult
        resets it): a fresh one per utterance costs seconds on a dynamic-graph
        model because its on-the-fly graph caches start cold."""
        import vosk

        key = "grammar" if grammar else "free"
        cache = getattr(self._local, "recognizers", None)
        if cache is None:
            cache = self._local.recognizers = {}
        rec = cache.get(key)
        if rec is None:
            if grammar:
                rec = vosk.KaldiRecognizer(self.model, RATE, json.dumps(grammar, ensure_ascii=False))
            else:
                rec = vosk.KaldiRecognizer(self.model, RATE)
            cache[key] = rec
        return rec

    def _decode(self, samples: np.ndarray, grammar: list[str] | None) -> str:
        rec = self._recognizer(grammar)
        rec.Reset()
        data = samples.astype("<i2").tobytes()
        step = RATE * 2 // 5  # 0.2 s chunks, as a live stream would arrive
        for start in range(0, len(data), step):
            rec.AcceptWaveform(data[start:start + step])
        return json.loads(rec.FinalResult()).get("text", "").strip()

    def _free_worker(self) -> "FreeFormWorker":
        with self._worker_lock:
            if self._worker is None:
                self._worker = FreeFormWorker(self)
            return self._worker

    def stream(self) -> "RecognitionStream":
        """Decode while the visitor speaks; only the tail is left at the end of speech."""
        return RecognitionStream(self)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        started = time.perf_counter()
        seconds = len(samples) / RATE
        mode = "grammar" if self.grammar else "free"
        raw = self._decode(samples, self.grammar or None)
        if self.grammar and rejected(raw):
            mode, raw = "free", self._decode(samples, None)
        raw = raw.replace(UNKNOWN, "").strip()
        return Transcript(normalize(raw), raw, mode, seconds, time.perf_counter() - started)


class FreeFormWorker:
    """A free-form decoder on a thread of its own, fed while the visitor
    speaks. It keeps one recogniser for its whole life (a new one starts with
    cold graph caches: seconds on a dynamic-graph model) and works on the other
    core, so an utterance the grammar accepts never waits for it."""

    def __init__(self, owner: VoskRecognizer) -> None:
        import queue

        self.owner = owner
        self._queue: "queue.Queue[tuple[str, object]]" = queue.Queue()
        # Audio is tagged with the utterance it belongs to: audio of one the
        # grammar already accepted is skipped, not decoded for nothing.
        self._utterance = 0
        self._thread = threading.Thread(target=self._run, name="asr-free-form", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rec = self.owner._recognizer(None)
        current = 0
        while True:
            kind, payload = self._queue.get()
            try:
                if kind == "audio":
                    utterance, data = payload
                    if utterance == current:
                        rec.AcceptWaveform(data)
                elif kind == "reset":
                    current = payload
                    rec.Reset()
                elif kind == "final":
                    payload.set_result(json.loads(rec.FinalResult()).get("text", "").strip())
            except Exception as exc:  # noqa: BLE001 - the caller gets it, the worker lives on
                if kind == "final":
                    payload.set_exception(exc)
                else:
                    log.warning("free-form decoder: %s", exc)
            finally:
                self._queue.task_done()

    def caught_up(self) -> None:
        """Block until everything fed is decoded. Live audio arrives in real
        time and the worker decodes faster than that, so at the end of speech
        it is already here; a benchmark that feeds a recording at once waits
        for it first."""
        self._queue.join()

    def reset(self) -> None:
        """Start a new utterance; whatever is still queued is dropped."""
        self._utterance += 1
        self._queue.put(("reset", self._utterance))

    def feed(self, data: bytes) -> None:
        self._queue.put(("audio", (self._utterance, data)))

    def final(self, timeout: float = 30.0) -> str:
        """What it heard, once it has caught up with everything fed."""
        from concurrent.futures import Future

        future: Future = Future()
        self._queue.put(("final", future))
        return future.result(timeout=timeout)


class RecognitionStream:
    def __init__(self, owner: VoskRecognizer) -> None:
        self.owner = owner
        self.rec = owner._recognizer(owner.grammar)
        self.rec.Reset()
        self.free = owner._free_worker() if owner.grammar and owner.free_alongside else None
        if self.free is not None:
            self.free.reset()
        self.chunks: list[np.ndarray] = []
        self.seconds = 0.0

    def feed(self, samples: np.ndarray) -> None:
        self.chunks.append(samples)
        self.seconds += len(samples) / RATE
        data = samples.astype("<i2").tobytes()
        self.rec.AcceptWaveform(data)
        if self.free is not None:
            self.free.feed(data)

    def finish(self) -> Transcript:
        started = time.perf_counter()
        raw = json.loads(self.rec.FinalResult()).get("text", "").strip()
        mode = "grammar" if self.owner.grammar else "free"
        if self.owner.grammar and rejected(raw):
            mode = "free"
            if self.free is not None:
                raw = self.free.final()
            else:
                audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
                raw = self.owner._decode(audio, None)
        elif self.free is not None:
            self.free.reset()  # the grammar heard a phrase: drop the rest of the other decode
        raw = raw.replace(UNKNOWN, "").strip()
        return Transcript(normalize(raw), raw, mode, self.seconds, time.perf_counter() - started)


def grammar_from_kb(kb) -> list[str]:
    """What the hall expects to hear: FAQ questions, exhibit names with the
    ways visitors ask for them, and the commands."""
    phrases: list[str] = list(COMMAND_PHRASES)
    for faq in kb.faqs:
        phrases.extend(faq.questions)
    for exhibit in kb.exhibits:
        for name in exhibit.names:
            phrases.extend([name, f"带我去{name}", f"{name}在哪里"])
    return list(dict.fromkeys(p.strip("？?。 ") for p in phrases if p.strip()))
