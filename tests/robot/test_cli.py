import json

from typer.testing import CliRunner

from robot.cli import app

runner = CliRunner()


def test_ask_json_prints_one_object(kb_path):
    result = runner.invoke(app, ["ask", "--kb", str(kb_path), "--json", "带我去遵义会议"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["intent"] == "goto" and data["exhibit_id"] == "zunyi" and data["answer_id"] is None
    assert {"intent", "answer_id", "exhibit_id", "score", "text"} <= set(data)


def test_ask_batch_prints_one_object_per_line(kb_path, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("遵义会议有什么意义\n\n厕所在哪儿\n今天天气怎么样\n", encoding="utf-8")
    result = runner.invoke(app, ["ask", "--kb", str(kb_path), "--json", "--batch", str(questions)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["answer_id"] for d in lines] == ["zunyi_meaning", "hall_toilet", None]
    assert lines[2]["intent"] == "unknown" and lines[2]["text"]


def test_ask_with_a_broken_kb_says_why(tmp_path):
    bad = tmp_path / "kb.yaml"
    bad.write_text("faq: [{id: a}]", encoding="utf-8")
    result = runner.invoke(app, ["ask", "--kb", str(bad), "问题"])
    assert result.exit_code == 2 and "知识库读取失败" in result.output


def test_cli_module_is_cheap_to_import():
    import subprocess
    import sys

    code = "import sys, robot.cli; heavy = {'jieba', 'vosk', 'sounddevice', 'pypinyin', 'pyttsx3', 'webrtcvad'};" \
           "print(sorted(heavy & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
