import json

import pytest

from content.model import Manifest
from robot.knowledge import KnowledgeError, kb_from_dict, kb_from_manifest, load_kb


def test_yaml_file_loads_faq_and_exhibits(kb):
    assert len(kb.faqs) >= 25 and len(kb.exhibits) >= 12
    assert kb.faq("zunyi_meaning").answer.startswith("遵义会议")
    assert "长征" in kb.exhibit("changzheng").aliases
    assert "遵义会议" in kb.vocabulary()


def test_json_file_loads_the_same_shape(tmp_path):
    path = tmp_path / "kb.json"
    path.write_text(json.dumps({"faq": [{"id": "a", "questions": ["问"], "answer": "答"}],
                                "exhibits": [{"id": "x", "title": "展品", "aliases": ["别名"], "section": "一"}]},
                               ensure_ascii=False), encoding="utf-8")
    kb = load_kb(path)
    assert kb.faq("a").questions == ("问",) and kb.exhibit("x").names == ("展品", "别名")


@pytest.mark.parametrize("data, reason", [
    ({"faq": [{"id": "a", "questions": [], "answer": "答"}]}, "at least one question"),
    ({"faq": [{"id": "a", "questions": ["q"], "answer": "x"}, {"id": "a", "questions": ["q"], "answer": "y"}]},
     "duplicate"),
    ({"exhibits": [{"id": "x"}]}, "needs id and title"),
    ({"faq": [{"id": "a", "questions": "不是列表", "answer": "y"}], "exhibits": "nope"}, "expected a mapping"),
    (["not", "a", "mapping"], "top level"),
])
def test_bad_files_say_what_is_wrong(data, reason):
    with pytest.raises(KnowledgeError, match=reason):
        kb_from_dict(data, source="t.yaml")


def test_unreadable_and_malformed_files_raise_knowledge_error(tmp_path):
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_kb(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("faq: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        load_kb(bad)


def test_empty_file_is_an_empty_kb(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert load_kb(path).empty


def test_kb_from_manifest_items():
    manifest = Manifest(site_id="s", group="robots", version=3, created_at=0, items=[
        {"kind": "faq", "id": "hours", "title": "开放时间", "questions": ["几点开门？"], "answer": "九点。"},
        {"kind": "exhibit", "id": "zunyi", "title": "遵义会议", "aliases": ["遵义"], "section": "革命征程",
         "caption": "1935年1月召开。"},
        {"kind": "news", "id": "n1", "title": "新闻"},
    ])
    kb = kb_from_manifest(manifest)
    assert [f.id for f in kb.faqs] == ["hours"]
    assert kb.exhibit("zunyi").caption == "1935年1月召开。" and kb.source == "manifest v3"
