import pytest

from robot.pinyin import OverrideError, PinyinConverter, load_overrides


@pytest.fixture(scope="module")
def converter():
    return PinyinConverter()


@pytest.mark.parametrize("word, pinyin", [
    ("银行", "yin2 hang2"), ("长征", "chang2 zheng1"), ("重庆", "chong2 qing4"), ("参观", "can1 guan1"),
    ("长江", "chang2 jiang1"), ("行长", "hang2 zhang3"), ("重新", "chong2 xin1"),
])
def test_polyphones_come_out_right(converter, word, pinyin):
    assert converter.to_pinyin(word) == pinyin


def test_polyphones_in_a_sentence(converter):
    spoken = converter.to_pinyin("我们参观了长征路上的重庆和长江边的银行。")
    for expected in ("can1 guan1", "chang2 zheng1", "chong2 qing4", "chang2 jiang1", "yin2 hang2"):
        assert expected in spoken
    assert spoken.endswith(".")


def test_numbers_are_read_in_chinese(converter):
    assert converter.to_pinyin("1921年") == "yi1 jiu3 er4 yi1 nian2"
    assert converter.to_pinyin("9:00开门").startswith("jiu3 dian3")
    assert "bai3 fen1 zhi1" in converter.to_pinyin("0.5%")


def test_override_table_wins_over_the_dictionary(tmp_path):
    table = tmp_path / "overrides.yaml"
    table.write_text("长征: zhang3 zheng1\n南湖红船: nan2 hu2 hong2 chuan2\n", encoding="utf-8")
    converter = PinyinConverter(load_overrides(table))
    assert converter.to_pinyin("长征") == "zhang3 zheng1"
    assert converter.to_pinyin("去南湖红船，好吗？").startswith("qu4 nan2 hu2 hong2 chuan2,")


@pytest.mark.parametrize("content, reason", [
    ("长征: chang zheng\n", "not tone-numbered"),
    ("长征: chang2\n", "1 syllables for 2 characters"),
    ("- 长征\n", "mapping"),
])
def test_bad_override_lines_are_explained(tmp_path, content, reason):
    table = tmp_path / "o.yaml"
    table.write_text(content, encoding="utf-8")
    with pytest.raises(OverrideError, match=reason):
        load_overrides(table)


def test_the_shipped_example_override_table_is_valid():
    from pathlib import Path

    import robot

    table = load_overrides(Path(robot.__file__).parent / "data" / "pinyin_overrides.example.yaml")
    assert table["长征"] == "chang2 zheng1" and all(len(w) == len(p.split()) for w, p in table.items())
