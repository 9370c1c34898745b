"""Line breaking of the hall's captions (pure: no Panda3D)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.textlayout import NO_LINE_START
from vrhall.captions import ELLIPSIS, em_width, wrap_columns, wrap_text


def test_no_single_character_on_the_last_line():
    # 17 characters at 16 per line: Panda3D's wrap leaves "议" alone on line two.
    text = "一九三五年一月召开的中共中央政治局扩大会议"[:17]
    lines = wrap_columns(text, 16)
    assert "".join(lines) == text
    assert len(lines) == 2 and len(lines[-1]) >= 2
    assert all(em_width(line) <= 16 for line in lines)


def test_punctuation_never_starts_a_line():
    text = "遵义会议在中国共产党历史上是一个生死攸关的转折点，确立了正确路线。"
    for columns in range(4, 20):
        for line in wrap_columns(text, columns):
            assert line[0] not in NO_LINE_START, (columns, line)


def test_numbers_stay_whole_and_clipping_adds_an_ellipsis():
    lines = wrap_columns("中国共产党第一次全国代表大会于1921年7月在上海召开，宣告了中国共产党的正式成立", 8, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith(ELLIPSIS)
    assert all(em_width(line) <= 8 for line in lines)
    assert not any(line.endswith("192") or line.startswith("1年") for line in lines)
    assert wrap_text("短标题", 10, max_lines=1) == "短标题"


chinese = st.text(alphabet=st.sampled_from(list("中国共产党人民历史会议，。、（）1921年ABC ")), min_size=0, max_size=80)


@settings(max_examples=200, deadline=None)
@given(text=chinese, columns=st.integers(min_value=3, max_value=30))
def test_wrapping_loses_nothing_and_fits(text, columns):
    lines = wrap_columns(text, columns)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        # A line may only run long by one hanging punctuation mark.
        assert em_width(line) <= columns + 1, (line, columns)
