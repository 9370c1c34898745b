import pytest

from robot.textnorm import arabic_to_spoken, chinese_to_int, int_to_chinese, normalize, strip_cjk_spaces


def test_asr_spaces_between_chinese_words_are_removed_but_latin_spaces_stay():
    assert strip_cjk_spaces("遵义 会议 在 哪里") == "遵义会议在哪里"
    assert strip_cjk_spaces("hello world 你好") == "hello world 你好"
    assert strip_cjk_spaces("党 的 二十 大 ， 好") == "党的二十大，好"


@pytest.mark.parametrize("spoken, written", [
    ("一九二一年", "1921年"),
    ("一 九 二 一 年", "1921年"),
    ("二〇二一年七月一日", "2021年7月1日"),
    ("建党一百周年", "建党100周年"),
    ("长征走了二万五千里", "长征走了25000里"),
    ("一九四九年十月一日", "1949年10月1日"),
    ("两千人", "2000人"),
])
def test_numbers_with_units_become_arabic(spoken, written):
    assert normalize(spoken) == written


@pytest.mark.parametrize("name", ["十一届三中全会", "中共一大", "八一建军节", "一年四季", "三会一课", "统一战线"])
def test_numbers_that_are_names_stay(name):
    assert normalize(name) == name


@pytest.mark.parametrize("value, text", [(0, "零"), (10, "十"), (15, "十五"), (28, "二十八"), (100, "一百"),
                                         (105, "一百零五"), (1921, "一千九百二十一"), (10005, "一万零五"),
                                         (25000, "二万五千")])
def test_int_to_chinese_and_back(value, text):
    assert int_to_chinese(value) == text
    assert chinese_to_int(text) == value


def test_spoken_form_for_tts_reads_years_digit_by_digit_and_times_as_clock():
    assert arabic_to_spoken("1921年7月") == "一九二一年七月"
    assert arabic_to_spoken("9:00-17:00开放") == "九点到十七点开放"
    assert arabic_to_spoken("16:30停止入场") == "十六点半停止入场"
    assert arabic_to_spoken("0.5%") == "零点五%"


def test_round_trip_year_through_both_directions():
    assert normalize(arabic_to_spoken("1935年1月")) == "1935年1月"


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=999_999_999))
def test_cardinal_round_trip(value):
    assert chinese_to_int(int_to_chinese(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1000, max_value=2099), st.integers(min_value=1, max_value=12))
def test_dates_survive_speech_and_recognition(year, month):
    written = f"{year}年{month}月"
    assert normalize(arabic_to_spoken(written)) == written
