"""TTS with the real espeak-ng program and its cmn-latn-pinyin voice."""

import shutil
import threading
import wave

import pytest

from robot.tts import EspeakTts, SilentSink, Speaker, TtsError

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def tts():
    engine = EspeakTts()
    problem = engine.problem()
    if problem:
        pytest.skip(problem)
    return engine


def test_writes_non_silent_audio_of_plausible_length(tts, tmp_path):
    text = "欢迎参观党建展厅，遵义会议于1935年1月召开。"
    out = tmp_path / "answer.wav"
    seconds = tts.synthesize_to_file(text, out)
    with wave.open(str(out)) as wav:
        frames, rate = wav.getnframes(), wav.getframerate()
    assert abs(frames / rate - seconds) < 0.01
    syllables = len(tts.converter.syllables(text))
    # Mandarin at espeak's default rate: roughly 0.15–0.6 s per syllable.
    assert 0.15 * syllables < seconds < 0.6 * syllables
    assert tts.synthesize(text).rms() > 200  # not silence


def test_empty_text_is_silence_not_an_error(tts):
    assert tts.synthesize("。").seconds == 0


def test_a_hanging_engine_is_killed_by_the_watchdog(tmp_path):
    fake = tmp_path / "espeak-hang"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    hung = EspeakTts(program=str(fake), timeout=0.5)
    with pytest.raises(TtsError, match="超过"):
        hung.synthesize("你好")


def test_missing_engine_says_what_to_install():
    missing = EspeakTts(program="espeak-ng-not-here")
    assert "espeak-ng" in missing.problem()
    with pytest.raises(TtsError, match="找不到"):
        missing.synthesize("你好")


def test_speaker_survives_engine_errors_and_keeps_speaking(tts, tmp_path):
    fake = tmp_path / "espeak-broken"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    events = []
    speaker = Speaker(EspeakTts(program=str(fake)), sink=SilentSink(realtime=False), on_event=events.append)
    speaker.say("第一句。")
    assert speaker.wait_idle(10)
    speaker.tts = tts
    speaker.say("第二句。")
    assert speaker.wait_idle(10)
    speaker.close()
    assert [(e.text, e.kind) for e in events] == [("第一句。", "error"), ("第二句。", "start"), ("第二句。", "done")]


def test_interrupt_stops_speech_at_once_and_drops_the_queue(tts):
    events = []
    started = threading.Event()

    def on_event(event):
        events.append(event)
        if event.kind == "start":
            started.set()

    sink = SilentSink(realtime=True)
    speaker = Speaker(tts, sink=sink, on_event=on_event)
    speaker.say("这是一段很长的讲解词，会讲很久很久。第二句话也很长很长很长。第三句话。")
    assert started.wait(10)
    speaker.interrupt()
    assert speaker.wait_idle(5)
    speaker.close()
    kinds = [e.kind for e in events]
    assert kinds == ["start", "interrupted"]  # the second and third sentences never started
