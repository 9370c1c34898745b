import pytest

from robot.nlu import is_affirmation, is_denial, ordinal_choice


@pytest.mark.parametrize("text, exhibit", [
    ("带我去遵义会议", "zunyi"),
    ("请带我去遵义会议会址看看", "zunyi"),
    ("我想去看看南湖红船", "nanhu"),
    ("领我们去 开国大典 那里", "kaiguo"),
])
def test_goto_names_the_exhibit(recognizer, text, exhibit):
    u = recognizer.understand(text)
    assert (u.intent, u.exhibit_id) == ("goto", exhibit)


@pytest.mark.parametrize("text, answer", [
    ("遵义会议有什么意义", "zunyi_meaning"),
    ("遵义会议是哪一年召开的", "zunyi_when"),
    ("带我去遵义会议", None),
])
def test_goto_versus_faq_on_the_same_exhibit(recognizer, text, answer):
    u = recognizer.understand(text)
    if answer is None:
        assert u.intent == "goto" and u.answer_id is None
    else:
        assert u.intent == "faq" and u.answer_id == answer and u.exhibit_id == "zunyi"


def test_where_is_about_the_exhibit_and_not_about_history(recognizer):
    assert recognizer.understand("遵义会议的展品在哪里").intent == "where"
    history = recognizer.understand("中共一大在哪里召开")
    assert history.intent == "faq" and history.answer_id == "yida_place"
    assert recognizer.understand("开国大典在哪一天").intent != "where"


def test_goto_an_unknown_exhibit_offers_the_closest_names(recognizer):
    u = recognizer.understand("带我去看遵义会")  # a misheard name: offered, never guessed
    assert u.intent == "goto" and u.exhibit_id is None and u.exhibit_candidates[0] == "zunyi"
    u = recognizer.understand("带我去看看兵马俑")
    assert u.intent == "goto" and u.exhibit_id is None and u.phrase == "兵马俑"
    assert len(u.exhibit_candidates) >= 1


@pytest.mark.parametrize("text, intent", [
    ("停", "stop"), ("别说了", "stop"), ("请停一下", "stop"), ("再说一遍", "repeat"), ("没听清", "repeat"),
    ("你好", "greeting"), ("您好呀", "greeting"), ("谢谢，再见", "goodbye"), ("开始导览", "tour"),
    ("带我们参观一下整个展厅", "tour"), ("今天天气怎么样", "unknown"), ("", "unknown"),
])
def test_command_intents(recognizer, text, intent):
    assert recognizer.understand(text).intent == intent


def test_greeting_prefix_does_not_hide_the_question(recognizer):
    u = recognizer.understand("你好，请问卫生间在哪里")
    assert u.intent == "faq" and u.answer_id == "hall_toilet"


def test_low_confidence_asks_back_with_candidates(recognizer):
    # Names the topic, not what about it: both dues entries fit.
    u = recognizer.understand("党费的事")
    assert u.intent == "ask_back"
    assert {"dues_standard", "dues_how"} <= {c.faq_id for c in u.candidates}


def test_quantity_question_about_dues_picks_the_standard(recognizer):
    # "多少钱" is a price: the entry that states an amount, not where to pay.
    u = recognizer.understand("党费交多少钱")
    assert u.intent == "faq" and u.answer_id == "dues_standard"


def test_named_topic_missing_from_an_entry_pushes_it_down(recognizer):
    # "……是哪天成立的" also fits the party's founding; only the other entry mentions 新中国.
    u = recognizer.understand("中华人民共和国是哪天成立的")
    assert u.candidates[0].faq_id == "kaiguo"


@pytest.mark.parametrize("text, same_as", [("开不开放", "开放"), ("你能帮我干嘛", "你能帮我干什么"),
                                           ("啥时候开始", "什么时候开始")])
def test_colloquial_and_a_not_a_questions_fold_to_the_plain_form(recognizer, text, same_as):
    canon = recognizer.ranker.canon
    assert canon(text) == canon(same_as)


def test_place_the_hall_does_not_know_is_not_answered(recognizer):
    # jieba tags 超市 as a verb; the place suffix still marks it as a place.
    assert recognizer.understand("超市几点开门").intent in ("unknown", "ask_back")


def test_polite_request_to_go_is_a_goto_not_a_question(recognizer):
    u = recognizer.understand("能带我去遵义会议吗")
    assert u.intent == "goto" and u.exhibit_id == "zunyi"


def test_what_makes_it_important_is_not_where_the_exhibit_stands(recognizer):
    u = recognizer.understand("遵义会议的意义在哪里")
    assert u.intent != "where" and u.candidates[0].faq_id == "zunyi_meaning"


def test_a_match_on_how_to_ask_alone_is_not_answered(recognizer):
    # 故事 folds to 介绍, which "南湖红船有什么故事" also has: nothing about the topic matches.
    assert recognizer.understand("说个故事给我听听").intent != "faq"


def test_question_words_weigh_less_than_the_topic(recognizer):
    # "多少" is shared with the dues standard; 预约 and 电话 are the booking entry's.
    assert recognizer.understand("预约电话是多少").candidates[0].faq_id == "hall_booking"


def test_stop_phrasings(recognizer):
    for text in ("不用讲了", "停一停", "别再说了"):
        assert recognizer.understand(text).intent == "stop", text


@pytest.mark.parametrize("text, choice", [("第二个", 2), ("第2个", 2), ("三", 3), ("最后一个", -1), ("好的", None)])
def test_ordinal_choice(text, choice):
    assert ordinal_choice(text) == choice


def test_affirmation_and_denial():
    assert is_affirmation("是的") and is_affirmation("对") and is_affirmation("好的。")
    assert is_denial("不是") and is_denial("都不对")
    assert not is_affirmation("不是") and not is_denial("是的")


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robot.nlu import INTENTS

_CHINESE = st.text(alphabet=st.sampled_from(list("遵义会议带我去哪里是的第二个停再说一遍你好一九二一年长征党费 ，。？!?a1")),
                   max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(_CHINESE, st.text(max_size=60)))
def test_any_text_gets_an_intent_and_a_reply(recognizer, manager, text):
    from robot.dialogue import Session

    assert recognizer.understand(text).intent in INTENTS
    session = Session()
    for _ in range(2):  # the second turn exercises the follow-up paths
        reply = manager.respond(text, session)
        assert reply.intent in INTENTS + ("guide",) and isinstance(reply.text, str)


def test_a_clock_time_folds_to_asking_about_times(recognizer):
    canon = recognizer.ranker.canon
    assert canon("下午4点半以后") == canon("16:30以后") == canon("几点以后")
    u = recognizer.understand("下午三点半以后还能入场吗")
    assert u.candidates[0].faq_id == "hall_hours"


def test_what_the_robot_can_do_however_put(recognizer):
    for text in ("您会做哪些事情", "你能为大家做点什么"):
        u = recognizer.understand(text)
        assert u.intent == "faq" and u.answer_id == "robot_help", text


def test_a_bare_topic_with_several_entries_asks_back(recognizer):
    u = recognizer.understand("长征")
    assert u.intent == "ask_back"
    assert {"long_march_distance", "long_march_time"} <= {c.faq_id for c in u.candidates}
    # One entry about it: nothing to choose between.
    assert recognizer.understand("三会一课").answer_id == "three_one"


def test_asking_the_robot_to_act_is_not_a_question(recognizer):
    assert recognizer.understand("帮我们拍一张合影").intent == "unknown"
    # Asking it to tell something is a question put politely.
    assert recognizer.understand("帮我讲讲红船").answer_id == "red_boat"


def test_someone_lost_is_not_answered_with_how_to_transfer(recognizer):
    # "怎么办" is how to ask; the transfer entry's "组织关系怎么办" shares only that.
    u = recognizer.understand("老人走失了怎么办")
    assert u.intent != "faq"


def test_hall_service_near_synonyms(recognizer):
    for text, answer in (("洗手间在第几层", "hall_toilet"), ("国庆节是怎么来的", "kaiguo"),
                         ("申请加入共产党得满足什么条件", "join_party")):
        assert recognizer.understand(text).candidates[0].faq_id == answer, text


def test_a_word_that_only_contains_pay_is_not_about_paying(recognizer):
    # 公交 keeps its 交: not the dues entry's 交 (pay).
    assert recognizer.understand("坐公交能到吗").intent != "faq"


# Round 5 (2026-12-01): general rules, each checked here on wordings of our own.

@pytest.mark.parametrize("text, intent", [
    ("暂停讲解", "stop"), ("好了好了别讲了", "stop"), ("行了你先停一停", "stop"),
    ("机器人下午好", "greeting"), ("哈喽小机器人", "greeting"),
    ("可以开始带我们导览了", "tour"), ("能带大家把每个展区都逛一遍吗", "tour"),
])
def test_commands_put_politely_or_with_an_address(recognizer, text, intent):
    assert recognizer.understand(text).intent == intent


def test_a_verb_not_verb_question_is_not_a_command(recognizer):
    # "看不看得完" asks; "全部看完" alone would read as "show us everything".
    assert recognizer.understand("半小时够不够把全部展区看完").intent != "tour"


@pytest.mark.parametrize("text, exhibit", [("遵义会议那个在哪儿", "zunyi"), ("开国大典那部分展览在几楼", "kaiguo")])
def test_pointing_at_a_thing_in_the_hall_asks_where_it_is(recognizer, text, exhibit):
    understood = recognizer.understand(text)
    assert (understood.intent, understood.exhibit_id) == ("where", exhibit)


def test_a_named_term_no_entry_mentions_is_not_answered_with_a_neighbour(recognizer):
    # The KB answers 红船精神; 井冈山精神 shares the shape of the question and nothing else.
    assert recognizer.understand("井冈山精神是指什么").intent in ("ask_back", "unknown")
    assert recognizer.understand("红船精神指的是什么").answer_id == "red_boat"


def test_an_entry_that_does_not_give_a_length_of_time_does_not_answer_how_long(recognizer):
    understood = recognizer.understand("南昌起义一共打了几天")
    assert understood.intent != "faq"
    assert understood.candidates and understood.candidates[0].faq_id == "nanchang"


def test_a_word_only_the_answer_uses_needs_the_meaning_to_match(recognizer):
    # The toilet entry's answer mentions the exit; asking for the cloakroom by
    # the exit is not asking for the toilet.
    assert recognizer.understand("出口旁边的存包处在哪里").intent != "faq"
    assert recognizer.understand("洗手间在几楼").answer_id == "hall_toilet"


# Round 6 (2026-12-01), on wordings of our own.

def test_a_date_names_its_event(recognizer):
    understood = recognizer.understand("1921年7月上海开的那次会是什么会")
    assert understood.candidates[0].faq_id in ("founding", "yida_place")
    assert recognizer.understand("1927年8月1日南昌发生了什么").candidates[0].faq_id == "nanchang"


def test_who_is_not_answered_by_an_entry_that_names_nobody(recognizer):
    understood = recognizer.understand("十一届三中全会是谁主持的")
    assert understood.intent != "faq"
    # "交给谁": a body answers "who" as well as a name does.
    assert recognizer.understand("党费一般交给谁").answer_id == "dues_how"


@pytest.mark.parametrize("text", ["讲解先停一下我们拍个照", "先别讲了我们自己转转"])
def test_stopping_whatever_follows(recognizer, text):
    assert recognizer.understand(text).intent == "stop"


def test_hello_and_a_remark_is_a_greeting_but_hello_and_a_need_is_a_question(recognizer):
    assert recognizer.understand("你好我们是来参观学习的").intent == "greeting"
    assert recognizer.understand("你好我想交党费").intent != "greeting"


@pytest.mark.parametrize("text", ["百色起义是哪一年", "古田会议讲了什么"])
def test_an_event_no_entry_names_is_not_answered_with_another_event(recognizer, text):
    assert recognizer.understand(text).intent in ("ask_back", "unknown")


def test_an_exhibit_no_entry_talks_about_is_not_answered_with_another_entry(recognizer):
    assert recognizer.understand("宝塔山是什么时候建的").intent in ("ask_back", "unknown")
    assert recognizer.understand("带我去宝塔山").intent == "goto"


def test_lead_the_way_and_where_it_shows(recognizer):
    understood = recognizer.understand("南昌起义那边你给带个路")
    assert (understood.intent, understood.exhibit_id) == ("goto", "nanchang")
    assert recognizer.understand("遵义会议的伟大体现在什么地方").intent != "where"


# Round 7 (2026-12-01), on wordings of our own.

def test_how_many_needs_a_number_that_is_not_a_date(recognizer):
    assert recognizer.understand("开国大典那天有多少群众到场").intent != "faq"
    assert recognizer.understand("现在党员总数有多少").answer_id == "member_count"
    # "哪几个" asks which, not how many.
    assert recognizer.understand("三会一课指的是哪几个会议").answer_id == "three_one"


def test_asking_for_the_number_needs_one_in_the_answer(recognizer):
    assert recognizer.understand("团体预约的电话号码是多少").intent != "faq"


@pytest.mark.parametrize("text, names", [("洛川会议是哪一年开的", ["洛川会议"]), ("西安事变讲一讲", ["西安事变"]),
                                         ("那次重要会议是哪一年", []), ("起义是什么时候打响的", [])])
def test_event_names_are_names_not_phrases(recognizer, text, names):
    assert [n for n in recognizer.unanswered_terms(text) if n.endswith(("会议", "事变", "起义"))] == names


@pytest.mark.parametrize("text, intent", [("讲解先停停", "stop"), ("引我们去遵义会议展区", "goto")])
def test_more_ways_to_stop_and_to_lead(recognizer, text, intent):
    assert recognizer.understand(text).intent == intent


# Round 8 (2026-12-01), on wordings of our own.

def test_a_congress_by_number_is_not_another_congress(recognizer):
    assert recognizer.understand("中共三大是在哪里开的").intent in ("ask_back", "unknown")
    assert recognizer.understand("中共一大是在哪里开的").answer_id == "yida_place"


def test_a_latin_word_the_hall_never_uses_is_something_it_does_not_offer(recognizer):
    assert recognizer.understand("展厅里有免费的wifi用吗").intent != "faq"


def test_asking_politely_for_an_act_is_not_a_question(recognizer):
    assert recognizer.understand("你可以帮我们照张相吗").intent == "unknown"
    assert recognizer.understand("你能帮我讲讲遵义会议吗").intent in ("faq", "ask_back")


@pytest.mark.parametrize("text, exhibit", [("开国大典的展板在展厅哪个位置", "kaiguo"), ("红船那件展品在这层吗", "nanhu")])
def test_more_ways_to_ask_where_it_stands(recognizer, text, exhibit):
    understood = recognizer.understand(text)
    assert (understood.intent, understood.exhibit_id) == ("where", exhibit)
