"""FAQ retrieval on paraphrase sets that never repeat a KB question verbatim.

Floors here guard against regressions; the figures themselves are reported by
`hall bench robot`. The honest figure is the latest held-out split's
(paraphrases_heldout10.yaml, committed before the eighth round of changes,
and _heldout11.yaml and _heldout12.yaml, written after it was frozen);
held-out splits 2-9 were each clean for one run and then tuned on. No
accuracy floor is set on held-out splits 2-12, and no test runs the system on
held-out splits 10-12: they are measured, not guarded. Only their data is
checked here."""

import re
from pathlib import Path

import pytest

from robot.evaluate import evaluate, load_cases
from robot.knowledge import KnowledgeBase, kb_from_dict
from robot.retrieval import FaqRanker, closest_exhibits, exhibit_mentions

DATA = Path(__file__).parent / "data"

SPLITS = {"dev": 0.95, "dev2": 0.93, "dev3": 0.90, "dev4": 0.95, "heldout": 0.85}
# Held-out sets measured once each by `hall bench robot` (the later ones are
# tuned on afterwards, but carry no floor here).
HELD_OUT = ("heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10", "heldout11", "heldout12")


def _bare(text: str) -> str:
    return re.sub(r"[\s，。？?！!、,.:：;；“”\"'…]", "", text)


def _kb_questions(kb):
    return {q.strip("？?。 ") for faq in kb.faqs for q in faq.questions}


def test_paraphrase_sets_are_large_enough_and_not_verbatim(kb):
    faq_cases = []
    known = _kb_questions(kb)
    known_bare = {_bare(q) for q in known}
    seen: dict[str, str] = {}
    for split in (*SPLITS, *HELD_OUT):
        cases = load_cases(DATA / f"paraphrases_{split}.yaml")
        for case in cases:
            assert case["q"].strip("？?。 ") not in known, case["q"]
            # ASR output has no punctuation and may have spaces: compare bare.
            bare = _bare(case["q"])
            assert bare not in known_bare, case["q"]
            assert seen.setdefault(bare, split) == split, (case["q"], seen[bare], split)
            if case["intent"] == "faq":
                assert kb.faq(case["answer_id"]) is not None, case
            if case["intent"] in ("goto", "where"):
                assert kb.exhibit(case["exhibit_id"]) is not None, case
        faq_cases += [c for c in cases if c["intent"] == "faq"]
    assert len(faq_cases) >= 100
    # The second held-out set: at least 120 cases of every kind (FAQ, commands, out of scope).
    for split in HELD_OUT:
        held = load_cases(DATA / f"paraphrases_{split}.yaml")
        assert len(held) >= 120 and {"faq", "goto", "where", "tour", "unknown"} <= {c["intent"] for c in held}
    assert len({c["q"] for c in faq_cases}) == len(faq_cases)


@pytest.mark.parametrize("split", SPLITS)
def test_paraphrase_accuracy(recognizer, split, record_property):
    report = evaluate(recognizer, load_cases(DATA / f"paraphrases_{split}.yaml"))
    figures = report.as_dict()
    record_property("figures", figures)
    print(split, figures)
    assert report.top1 >= SPLITS[split]
    assert report.wrong_confident_rate <= 0.03
    # Asking back must usually offer the right entry among its candidates.
    assert report.ask_back_recoverable >= 0.7


def test_query_term_weights_scale_a_terms_share():
    from robot.bm25 import Bm25Index

    index = Bm25Index([["预约", "电话"], ["党费", "多少"], ["展厅", "开门"]])
    plain = index.normalised(["预约", "多少"])
    light = index.normalised(["预约", "多少"], {"多少": 0.4})
    assert plain[0] == pytest.approx(plain[1])
    assert light[0] > 0.5 > light[1]


def test_every_kb_question_ranks_its_own_entry_first(kb, ranker):
    for faq in kb.faqs:
        for question in faq.questions:
            assert ranker.rank(question)[0].faq_id == faq.id, question


def test_asr_style_input_with_spaces_and_chinese_numerals_matches(ranker):
    top = ranker.rank("遵义 会议 是 一九三五 年 开 的 吗")[0]
    assert top.faq_id == "zunyi_when"


def test_aliases_fold_to_the_exhibit_title(ranker):
    assert ranker.rank("红船精神指的是什么")[0].faq_id == "red_boat"
    assert ranker.rank("八一起义是哪一年")[0].faq_id == "nanchang"


def test_scores_are_normalised_and_ordered(ranker):
    ranked = ranker.rank("长征走了多远", limit=5)
    assert all(0.0 <= c.score <= 1.0 for c in ranked)
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)


def test_empty_kb_and_empty_query_rank_nothing(ranker):
    assert FaqRanker(KnowledgeBase()).rank("遵义会议") == []
    assert ranker.rank("") == [] and ranker.rank("？？") == []


def test_exhibit_mentions_prefer_the_longest_name(kb):
    assert exhibit_mentions(kb, "遵义会议会址在哪")[0] == ("zunyi", "遵义会议会址")
    assert exhibit_mentions(kb, "今天天气") == []


def test_closest_exhibits_for_a_misheard_name(kb):
    assert closest_exhibits(kb, "遵义会")[0][0] == "zunyi"
    assert closest_exhibits(kb, "南湖的红船")[0][0] == "nanhu"


def test_ranking_scales_to_a_thousand_entries():
    data = {"faq": [{"id": f"f{i}", "questions": [f"第{i}号展品讲的是什么故事", f"展品{i}在哪个年代"],
                     "answer": f"展品{i}的说明。"} for i in range(1000)]}
    ranker = FaqRanker(kb_from_dict(data))
    assert ranker.rank("第517号展品讲的是什么故事")[0].faq_id == "f517"
