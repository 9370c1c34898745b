from robot.dialogue import MAX_NOT_UNDERSTOOD, DialogueManager, Session, progress_text
from robot.knowledge import KnowledgeBase


def test_ask_back_then_yes_answers_the_first_candidate(manager, kb):
    session = Session()
    asked = manager.respond("党费的事", session)
    assert asked.intent == "ask_back" and asked.text.startswith("您是想问")
    first = asked.candidates[0]
    reply = manager.respond("是的", session)
    assert reply.intent == "faq" and reply.answer_id == first and reply.text == kb.faq(first).answer


def test_ask_back_then_ordinal_picks_that_candidate(manager):
    session = Session()
    asked = manager.respond("党费的事", session)
    reply = manager.respond("第二个", session)
    assert reply.answer_id == asked.candidates[1]


def test_denial_asks_to_rephrase_and_clears_the_offer(manager):
    session = Session()
    manager.respond("党费的事", session)
    assert "换个说法" in manager.respond("不是", session).text
    assert manager.respond("是的", session).intent != "faq"


def test_repeat_says_the_last_answer_again(manager):
    session = Session()
    answer = manager.respond("厕所在哪儿", session)
    again = manager.respond("再说一遍", session)
    assert again.intent == "repeat" and again.text == answer.text
    assert manager.respond("再说一遍", Session()).text != answer.text  # a new visitor has nothing to repeat


def test_where_then_yes_leads_the_way(manager):
    session = Session()
    where = manager.respond("遵义会议的展品在哪里", session)
    assert "革命征程" in where.text and where.guide is None
    go = manager.respond("好的", session)
    assert go.intent == "goto" and go.guide.action == "goto" and go.guide.exhibit_id == "zunyi"


def test_unknown_exhibit_then_choose_one(manager):
    session = Session()
    reply = manager.respond("带我去看看南湖的船", session)
    if reply.exhibit_id is None:  # misheard name: offered names, then chosen
        assert "没有找到" in reply.text and reply.candidates
        chosen = manager.respond("第一个", session)
        assert chosen.guide is not None and chosen.exhibit_id == reply.candidates[0]
    else:
        assert reply.exhibit_id == "nanhu"


def test_goto_and_tour_request_guide_actions(manager, kb):
    goto = manager.respond("带我去遵义会议", Session())
    assert goto.guide.action == "goto" and goto.guide.exhibit_id == "zunyi" and "遵义会议" in goto.text
    tour = manager.respond("开始导览", Session())
    assert tour.guide.action == "tour" and list(tour.guide.route) == [e.id for e in kb.exhibits]


def test_stop_stops_speech_and_guidance(manager):
    reply = manager.respond("停", Session())
    assert reply.stop_speech and reply.guide.action == "stop"


def test_goodbye_ends_the_session_nominally(manager):
    assert manager.respond("谢谢，再见", Session()).end_reason == "nominal"


def test_repeated_not_understood_ends_the_session(manager):
    session = Session()
    replies = [manager.respond("今天天气怎么样", session) for _ in range(MAX_NOT_UNDERSTOOD)]
    assert [r.end_reason for r in replies] == [None] * (MAX_NOT_UNDERSTOOD - 1) + ["not_understood"]


def test_empty_kb_says_so():
    reply = DialogueManager(KnowledgeBase()).respond("遵义会议有什么意义", Session())
    assert reply.intent == "unknown" and "知识库" in reply.text


def test_progress_texts():
    assert progress_text("moving", "遵义会议") == "正在带您前往“遵义会议”。"
    assert progress_text("arrived", "遵义会议").startswith("已到达“遵义会议”")
    assert "第2站" in progress_text("moving", "红船", stop_index=1, stops_total=12)
    assert progress_text("accepted", "x") is None
