"""Sentence embeddings in FAQ retrieval and in recognising reworded commands,
with the real bundled encoder (Universal Sentence Encoder, multilingual v3)."""

import pytest

from robot.commands import CommandMatcher
from robot.knowledge import kb_from_dict
from robot.nlu import IntentRecognizer
from robot.retrieval import FaqRanker
from robot.semantic import EncoderUnavailable, SemanticIndex, load_encoder, mostly_chinese

# Questions that share no character pair with the entry they mean.
SERVICES = {"faq": [
    {"id": "parking", "questions": ["附近有停车场吗？"], "answer": "展厅北侧有停车场，可以停放小汽车。"},
    {"id": "wifi", "questions": ["展厅有无线网络吗？"], "answer": "展厅提供免费无线网络，名称为 DJZT。"},
    {"id": "hours", "questions": ["展厅几点开门？"], "answer": "每天九点开门。"},
]}


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("use")


def test_the_encoder_is_bundled_and_normalised(encoder):
    vectors = encoder.encode(["展厅几点开门", "党费怎么交"])
    assert vectors.shape == (2, 512)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-3
    # Close in meaning scores higher than unrelated.
    near, far = encoder.encode(["你们早上什么时候开馆", "入党要写申请书吗"]) @ vectors[0]
    assert near > far + 0.2


@pytest.mark.parametrize("question, entry", [("开车来的话车子放哪儿", "parking"), ("手机能连上网吗", "wifi")])
def test_meaning_finds_what_words_miss(encoder, question, entry):
    kb = kb_from_dict(SERVICES)
    assert FaqRanker(kb, encoder="none").rank(question) == []
    ranked = FaqRanker(kb, encoder=encoder).rank(question)
    assert ranked and ranked[0].faq_id == entry


def test_semantic_index_scores_each_entry_by_its_best_question(encoder):
    index = SemanticIndex(encoder, [["展厅几点开门", "周一开放吗"], ["党费怎么交"]], ["九点开门", "交给支部"])
    questions, answers = index.cosines("礼拜一开不开")
    assert questions.shape == answers.shape == (2,)
    assert questions[0] > questions[1]
    scores = index.scores("礼拜一开不开")
    assert 0.0 <= scores.min() and scores.max() <= 1.0 and scores[0] > scores[1]


def test_only_chinese_text_is_compared_by_meaning(encoder):
    assert mostly_chinese("展厅几点开门") and mostly_chinese("5G信号好吗")
    assert not mostly_chinese("시작") and not mostly_chinese("") and not mostly_chinese("ok")
    index = SemanticIndex(encoder, [["开始导览"]], ["好的"])
    assert index.scores("시작").max() == 0.0  # Korean "start": the stand-in ASR model's word for noise


def test_a_missing_or_unknown_encoder_falls_back_to_words():
    with pytest.raises(EncoderUnavailable, match="可选"):
        load_encoder("bert")
    ranker = FaqRanker(kb_from_dict(SERVICES), encoder="bert")
    assert ranker.semantic is None and "bert" in ranker.encoder_error
    assert ranker.rank("展厅几点开门")[0].faq_id == "hours"


@pytest.mark.parametrize("text, intent", [
    ("等一会儿先别讲了", "stop"), ("机器人您好", "greeting"), ("请带我们把整个展厅参观一遍", "tour"),
])
def test_reworded_commands_are_recognised_by_meaning(encoder, text, intent):
    match = CommandMatcher(encoder).match(text)
    assert match is not None and match.intent == intent and match.score >= 0.7


@pytest.mark.parametrize("text", ["入党需要什么条件", "南昌起义是哪一年", "시작", "附近有没有吃饭的地方"])
def test_questions_and_other_languages_are_not_commands(encoder, text):
    assert CommandMatcher(encoder).match(text) is None


def test_a_question_the_hall_answers_is_never_taken_for_a_command(kb):
    recognizer = IntentRecognizer(kb)
    assert recognizer.understand("等一会儿先别讲了").intent == "stop"
    # Close to "你好机器人", but the FAQ answers it.
    understood = recognizer.understand("机器人你能帮我做什么")
    assert understood.intent == "faq" and understood.answer_id == "robot_help"
