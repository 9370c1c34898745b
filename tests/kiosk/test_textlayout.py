from hypothesis import given, settings, strategies as st

from kiosk.paginate import paginate
from kiosk.textlayout import NO_LINE_END, NO_LINE_START, tokenize, violations, wrap


def one_per_char(text: str) -> float:
    return len(text)


def test_plain_chinese_breaks_at_width():
    assert wrap("中国共产党党员义务", 4, one_per_char) == ["中国共产", "党党员义", "务"]


def test_full_stop_never_starts_a_line():
    # "。" would fall at the start of line 2: the character before it goes down too.
    lines = wrap("学习党章党规。加强修养", 6, one_per_char)
    assert lines == ["学习党章党", "规。加强修养"]
    assert not violations(lines)


def test_opening_bracket_never_ends_a_line():
    lines = wrap("认真学习《党章》全文", 5, one_per_char)
    assert lines[0] == "认真学习"
    assert lines[1].startswith("《")
    assert not violations(lines)


def test_several_closing_marks_in_a_row():
    lines = wrap("他说：“好。”」然后", 4, one_per_char)
    assert not violations(lines)
    assert "".join(lines) == "他说：“好。”」然后"


def test_hanging_when_nothing_can_be_pushed():
    # A line of one character followed by punctuation: it hangs instead of looping.
    lines = wrap("好。", 1, one_per_char)
    assert lines == ["好。"]


def test_latin_words_stay_together():
    lines = wrap("欢迎使用 MQTT 协议", 6, one_per_char)
    assert any("MQTT" in line for line in lines)
    assert all("MQT" not in line or "MQTT" in line for line in lines)


def test_number_with_decimal_point_is_one_token():
    assert "3.5" in tokenize("增长3.5个百分点")


def test_hard_newlines_are_kept():
    assert wrap("第一段\n第二段", 10, one_per_char) == ["第一段", "第二段"]


def test_overlong_word_is_split():
    lines = wrap("abcdefghij", 4, one_per_char)
    assert lines == ["abcd", "efgh", "ij"]


def test_measure_callback_with_proportional_widths():
    widths = {"，": 0.5}
    lines = wrap("一二三，四五六", 3.5, lambda s: sum(widths.get(c, 1) for c in s))
    assert lines == ["一二三，", "四五六"]


chinese = st.text(alphabet=st.sampled_from(list("党员学习教育组织生活会议") + list(NO_LINE_START)[:8]
                                           + list(NO_LINE_END)[:5]), min_size=0, max_size=80)


@settings(max_examples=200, deadline=None)
@given(chinese, st.integers(min_value=2, max_value=20))
def test_rules_hold_and_text_is_preserved(text, width):
    lines = wrap(text, width, one_per_char)
    assert "".join(lines) == text
    assert not violations(lines)
    # Lines run long only to keep punctuation with its neighbour.
    assert all(len(line) <= width or any(c in NO_LINE_START or c in NO_LINE_END for c in line) for line in lines)


def test_pagination_splits_and_never_returns_nothing():
    lines = [f"第{i}行" for i in range(25)]
    pages = paginate(lines, 10)
    assert [len(p) for p in pages] == [10, 10, 5]
    assert paginate([], 10) == [[]]


def test_pagination_drops_blank_lines_at_page_top():
    pages = paginate(["a", "b", "", "c"], 2)
    assert pages == [["a", "b"], ["c"]]
