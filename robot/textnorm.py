"""Chinese text clean-up for what the recogniser hears and what the robot says.

Vosk's Chinese models emit one token per word separated by spaces
("遵义 会议 在 哪里"); matching and subtitles want plain Chinese. Numbers come
out as characters ("一九二一年") while the knowledge base may write "1921年":
both sides are normalised to Arabic digits for matching, and back to
characters for speech, because espeak's pinyin voice cannot read digits.

Only numbers followed by a unit are converted. Ordinals that are names stay
as they are: "十一届三中全会", "中共一大", "八一建军节".
"""

from __future__ import annotations

import re

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
_SPACE_BETWEEN = re.compile(rf"(?<=[{CJK}{_CJK_PUNCT}0-9])\s+(?=[{CJK}{_CJK_PUNCT}])|(?<=[{CJK}{_CJK_PUNCT}])\s+(?=[0-9])")

DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DIGIT_CHARS = "〇零一二三四五六七八九"
_SPOKEN_DIGITS = "零一二三四五六七八九"

# A year written digit by digit: 一九二一年, 二〇二一年.
_YEAR_DIGITS = re.compile(rf"([{_DIGIT_CHARS}]{{2,4}})(?=年)")
# A positional number followed by a counting unit: 一百周年, 二十八年, 十月一日.
_UNITS = "周年|年|岁|元|块|天|日|号|月|个月|分钟|小时|点|人|名|位|米|公里|里|多"
_POSITIONAL = re.compile(rf"(?<![第届])([{_DIGIT_CHARS}两十百千万亿]+)(?={_UNITS})")
_ARABIC_YEAR = re.compile(r"(\d{4})(?=年)")
_ARABIC = re.compile(r"\d+(?:\.\d+)?")
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")
_CLOCK_RANGE = re.compile(r"(\d{1,2}[:：]\d{2})\s*[-–~至]\s*(\d{1,2}[:：]\d{2})")
# Words that contain a number character but are names, never quantities.
_PROTECTED = ("一大", "二大", "三大", "一心", "一致", "一起", "一下", "一些", "一般", "一定", "一直", "统一", "唯一",
              "八一", "五一", "十一届", "三中全会", "四中全会", "五中全会", "六中全会", "七中全会", "一点")


def strip_cjk_spaces(text: str) -> str:
    """Remove the spaces an ASR puts between Chinese words; keep them between Latin words."""
    return _SPACE_BETWEEN.sub("", text.strip())


def chinese_to_int(chars: str) -> int | None:
    """Value of a Chinese numeral such as 一九二一, 二十八, 一百零五, 两千; None if not a number."""
    if not chars:
        return None
    if all(c in DIGITS for c in chars):
        if len(chars) == 1:
            return DIGITS[chars]
        return int("".join(str(DIGITS[c]) for c in chars))
    total, section, digit = 0, 0, None
    scale = {"十": 10, "百": 100, "千": 1000}
    big = {"万": 10_000, "亿": 100_000_000}
    for c in chars:
        if c in DIGITS:
            digit = DIGITS[c]
        elif c in scale:
            # 十 alone (十五) or after 零 (一万零十) means one ten.
            section += (1 if not digit else digit) * scale[c]
            digit = None
        elif c in big:
            section += digit or 0
            total += section * big[c]
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _protected_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for word in _PROTECTED:
        for match in re.finditer(re.escape(word), text):
            spans.append((match.start(), match.end()))
    return spans


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def chinese_numbers_to_arabic(text: str) -> str:
    """一九二一年 → 1921年, 一百周年 → 100周年; names such as 十一届三中全会 stay."""
    protected = _protected_spans(text)

    def year(match: re.Match[str]) -> str:
        # Three or four digits before 年 are always a year, even if they hold a
        # name such as 八一 (1281年); two digits may be a name ("八一").
        if len(match.group(1)) < 3 and _overlaps(match.span(1), protected):
            return match.group(0)
        return "".join(str(DIGITS[c]) for c in match.group(1))

    text = _YEAR_DIGITS.sub(year, text)
    protected = _protected_spans(text)

    def positional(match: re.Match[str]) -> str:
        chars = match.group(1)
        if _overlaps(match.span(1), protected):
            return chars
        # A lone 一 before a unit is usually an article ("一年四季"), but a
        # time or date ("一日", "一点") is still a number; keep the article case.
        if chars == "一" and text[match.end(1):match.end(1) + 1] in "年天个位名人":
            return chars
        value = chinese_to_int(chars)
        return chars if value is None else str(value)

    return _POSITIONAL.sub(positional, text)


def int_to_chinese(value: int) -> str:
    """Cardinal reading: 100 → 一百, 28 → 二十八, 105 → 一百零五, 15 → 十五."""
    if value == 0:
        return "零"
    if value < 0:
        return "负" + int_to_chinese(-value)
    if value >= 100_000_000:
        high, low = divmod(value, 100_000_000)
        return int_to_chinese(high) + "亿" + (_padded(low, 100_000_000) if low else "")
    if value >= 10_000:
        high, low = divmod(value, 10_000)
        return int_to_chinese(high) + "万" + (_padded(low, 10_000) if low else "")
    out = ""
    units = [(1000, "千"), (100, "百"), (10, "十")]
    zero_pending = False
    for size, name in units:
        digit, value = divmod(value, size)
        if digit:
            if zero_pending:
                out += "零"
                zero_pending = False
            out += _SPOKEN_DIGITS[digit] + name
        elif out:
            zero_pending = True
    if value:
        if zero_pending:
            out += "零"
        out += _SPOKEN_DIGITS[value]
    if out.startswith("一十"):
        out = out[1:]
    return out


def _padded(value: int, block: int) -> str:
    # 10,005 → 一万零五: a gap inside a big number is read as 零.
    text = int_to_chinese(value)
    if text.startswith("十"):  # inside a number a ten is read 一十: 一万零一十
        text = "一" + text
    return ("零" + text) if value < block // 10 else text


def arabic_to_spoken(text: str) -> str:
    """For speech: 1921年 → 一九二一年, 9:00 → 九点, 100周年 → 一百周年, 3.5 → 三点五."""
    text = _CLOCK_RANGE.sub(r"\1到\2", text)
    text = _CLOCK.sub(lambda m: int_to_chinese(int(m.group(1))) + "点" +
                      ("" if m.group(2) == "00" else ("半" if m.group(2) == "30" else int_to_chinese(int(m.group(2))) + "分")),
                      text)
    text = _ARABIC_YEAR.sub(lambda m: "".join(_SPOKEN_DIGITS[int(c)] for c in m.group(1)), text)

    def number(match: re.Match[str]) -> str:
        whole, _, fraction = match.group(0).partition(".")
        spoken = int_to_chinese(int(whole))
        if fraction:
            spoken += "点" + "".join(_SPOKEN_DIGITS[int(c)] for c in fraction)
        return spoken

    return _ARABIC.sub(number, text)


_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９"}


def normalize(text: str) -> str:
    """The one form used for matching: no ASR spaces, Arabic digits, lower-case Latin."""
    text = text.translate(_FULLWIDTH)
    text = strip_cjk_spaces(text)
    text = chinese_numbers_to_arabic(text)
    return text.lower()


def is_cjk(char: str) -> bool:
    return bool(re.match(rf"[{CJK}]", char))
