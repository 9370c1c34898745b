from decimal import Decimal

import pytest

from kiosk.dues import DuesInputError, MemberCategory, monthly_dues, parse_income

E, R = MemberCategory.EMPLOYED, MemberCategory.RETIRED

CASES = [
    # category, income, rate, monthly
    (E, "0", "0.005", "0.00"),
    (E, "1000", "0.005", "5.00"),
    (E, "2999.99", "0.005", "15.00"),
    (E, "3000", "0.005", "15.00"),        # edge: 3000 itself is in the 0.5 % bracket
    (E, "3000.01", "0.01", "30.00"),
    (E, "4500", "0.01", "45.00"),
    (E, "5000", "0.01", "50.00"),         # edge
    (E, "5000.01", "0.015", "75.00"),
    (E, "8888.88", "0.015", "133.33"),
    (E, "10000", "0.015", "150.00"),      # edge
    (E, "10000.01", "0.02", "200.00"),
    (E, "25000", "0.02", "500.00"),
    (E, "1234.5", "0.005", "6.17"),       # 6.1725 rounds half up to 6.17
    (E, "1235", "0.005", "6.18"),         # 6.175 → 6.18 (half up, not banker's)
    (R, "2000", "0.005", "10.00"),
    (R, "5000", "0.005", "25.00"),        # edge: retired 5000 is 0.5 %
    (R, "5000.01", "0.01", "50.00"),
    (R, "12000", "0.01", "120.00"),
]


@pytest.mark.parametrize("category,income,rate,monthly", CASES)
def test_salary_brackets(category, income, rate, monthly):
    result = monthly_dues(category, income)
    assert result.rate == Decimal(rate)
    assert result.monthly == Decimal(monthly)


@pytest.mark.parametrize("category", [MemberCategory.STUDENT, MemberCategory.UNEMPLOYED, MemberCategory.LOW_INCOME])
def test_fixed_amount_categories(category):
    result = monthly_dues(category)
    assert result.monthly == Decimal("0.20")
    assert result.rate is None
    assert "0.20" in result.explain()


def test_farmers_choose_within_range():
    result = monthly_dues("farmer")
    assert (result.monthly, result.maximum) == (Decimal("0.20"), Decimal("2.00"))
    assert "至" in result.explain()


def test_explanation_is_chinese_with_rate():
    text = monthly_dues(E, "8000").explain()
    assert "1.5%" in text and "120.00" in text


@pytest.mark.parametrize("bad", ["", "abc", "-1", "1.234", "NaN", "1e30"])
def test_bad_input_is_refused_with_a_message(bad):
    with pytest.raises(DuesInputError) as info:
        monthly_dues(E, bad)
    assert str(info.value)


def test_missing_income_for_employed():
    with pytest.raises(DuesInputError):
        monthly_dues(E, None)


def test_parse_accepts_thousands_separators():
    assert parse_income("12,000.50") == Decimal("12000.50")
