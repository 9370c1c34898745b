"""Party dues (党费) by the 2008 rules of the Central Organisation Department:
《关于中国共产党党费收缴、使用和管理的规定》(中组发〔2008〕3号).

Decisions documented here (the rules say "3000元以下（含3000元）" etc.):

* The base is the member's monthly salary income after tax (税后工资性收入).
* Brackets are closed at the top: exactly 3000.00 is in the 0.5 % bracket,
  exactly 5000.00 in the 1 % bracket, exactly 10000.00 in the 1.5 % bracket.
  Retired members: exactly 5000.00 pays 0.5 %.
* The rate applies to the whole base, not progressively (the rules give one
  percentage per income level, unlike income tax).
* Amounts are rounded to the fen (0.01 yuan), half up, using Decimal.
* Students, unemployed (下岗失业) members and members on the minimum living
  allowance (低保) pay 0.20 yuan a month. Farmers pay 0.20 to 2.00 yuan a month
  by their own choice; the calculator shows the minimum and the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum


class MemberCategory(str, Enum):
    EMPLOYED = "employed"      # 在职党员
    RETIRED = "retired"        # 离退休党员
    STUDENT = "student"        # 学生党员
    UNEMPLOYED = "unemployed"  # 下岗失业党员
    LOW_INCOME = "low_income"  # 领取最低生活保障金的党员
    FARMER = "farmer"          # 农民党员


CATEGORY_LABELS = {
    MemberCategory.EMPLOYED: "在职党员",
    MemberCategory.RETIRED: "离退休党员",
    MemberCategory.STUDENT: "学生党员",
    MemberCategory.UNEMPLOYED: "下岗失业党员",
    MemberCategory.LOW_INCOME: "低保党员",
    MemberCategory.FARMER: "农民党员",
}

# (upper bound inclusive or None for "and above", rate)
EMPLOYED_BRACKETS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("3000"), Decimal("0.005")),
    (Decimal("5000"), Decimal("0.01")),
    (Decimal("10000"), Decimal("0.015")),
    (None, Decimal("0.02")),
)
RETIRED_BRACKETS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("5000"), Decimal("0.005")),
    (None, Decimal("0.01")),
)
FIXED_MONTHLY = Decimal("0.20")
FARMER_MAX = Decimal("2.00")
FEN = Decimal("0.01")
MAX_INCOME = Decimal("100000000")


class DuesInputError(ValueError):
    """The income entered cannot be used; the message is shown to the member."""


@dataclass(frozen=True)
class DuesResult:
    category: MemberCategory
    income: Decimal | None
    rate: Decimal | None        # e.g. Decimal("0.015"); None for fixed amounts
    monthly: Decimal            # yuan, rounded to the fen
    maximum: Decimal | None = None  # farmers choose between monthly and maximum

    @property
    def rate_text(self) -> str:
        if self.rate is None:
            return "定额"
        percent = (self.rate * 100).normalize()
        return f"{percent:f}%"

    def explain(self) -> str:
        """One sentence in Chinese for the screen."""
        label = CATEGORY_LABELS[self.category]
        if self.category is MemberCategory.FARMER:
            return f"{label}每月交纳党费 {self.monthly} 元至 {self.maximum} 元"
        if self.rate is None:
            return f"{label}每月交纳党费 {self.monthly} 元"
        return f"{label}月收入 {self.income} 元，按 {self.rate_text} 交纳，每月党费 {self.monthly} 元"


def parse_income(text: str) -> Decimal:
    """Parse what the member typed on the keypad (yuan, up to two decimals)."""
    try:
        value = Decimal(text.strip().replace(",", "").replace("，", ""))
    except InvalidOperation as exc:
        raise DuesInputError("请输入正确的金额") from exc
    if not value.is_finite() or value < 0:
        raise DuesInputError("收入不能为负数")
    if value > MAX_INCOME:
        raise DuesInputError("金额过大，请核对")
    if value != value.quantize(FEN):
        raise DuesInputError("金额最多保留两位小数")
    return value


def _rate_for(income: Decimal, brackets: tuple[tuple[Decimal | None, Decimal], ...]) -> Decimal:
    for upper, rate in brackets:
        if upper is None or income <= upper:
            return rate
    raise AssertionError("brackets end with an open bracket")  # unreachable by construction


def monthly_dues(category: MemberCategory | str, income: Decimal | str | int | None = None) -> DuesResult:
    category = MemberCategory(category)
    if category in (MemberCategory.STUDENT, MemberCategory.UNEMPLOYED, MemberCategory.LOW_INCOME):
        return DuesResult(category, None, None, FIXED_MONTHLY)
    if category is MemberCategory.FARMER:
        return DuesResult(category, None, None, FIXED_MONTHLY, maximum=FARMER_MAX)
    if income is None:
        raise DuesInputError("请输入每月税后工资收入")
    base = parse_income(income) if isinstance(income, str) else Decimal(income)
    if base < 0:
        raise DuesInputError("收入不能为负数")
    brackets = EMPLOYED_BRACKETS if category is MemberCategory.EMPLOYED else RETIRED_BRACKETS
    rate = _rate_for(base, brackets)
    monthly = (base * rate).quantize(FEN, rounding=ROUND_HALF_UP)
    return DuesResult(category, base, rate, monthly)
