"""Dialogue stage helper: which day (and part of day) a villager means.

「明天」「后天下午」「周六」「下周一下午」「这周末」「12月5号」「5号上午」「赶集那天」
「晚上7点」「随便」 → a range of days, maybe a part of the day or an hour, maybe market days
only. A day that does not exist (2月30日), one in the past or beyond the booking horizon is
refused with a reason the villager can act on. What is open on those days is the booking
service's question, not this one's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
          "七": 7, "八": 8, "九": 9}
WEEKDAY_WORDS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
                 "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
WEEKDAY_NAMES = "一二三四五六日"
NUM = r"[0-9零〇一二两三四五六七八九十]{1,3}"

ANY_DAY = re.compile(r"随便|都行|都可以|越快越好|尽快|最近|最早|哪天都|什么时候都|早点")
RELATIVE = {"大后天": 3, "今天": 0, "今日": 0, "明天": 1, "明日": 1, "明早": 1, "明晚": 1,
            "后天": 2}
WEEKDAY = re.compile(r"(下下|下|这|本)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
WEEKEND = re.compile(r"(下|这|本)?周末")
MONTH_DAY = re.compile(rf"({NUM})月({NUM})[日号]?")
DAY_ONLY = re.compile(rf"({NUM})[日号]")
MARKET = re.compile(r"赶集|赶场|逢场|集日|场天|赶街|当街")
HOUR = re.compile(rf"({NUM})[点:：]")
PARTS = (("evening", re.compile(r"晚上|傍晚|下班|明晚|夜里|晚些")),
         ("noon", re.compile(r"中午")),
         ("am", re.compile(r"上午|早上|早晨|明早|一早")),
         ("pm", re.compile(r"下午|午后")))
PART_WORDS = {"am": "上午", "pm": "下午", "evening": "晚上", "noon": "中午"}


@dataclass(frozen=True, slots=True)
class When:
    """Days from `first` to `last`, narrowed to a part of the day or an hour when said."""

    first: date
    last: date
    part: str | None = None  # am / pm / evening / noon
    hour: int | None = None
    market: bool = False

    @property
    def one_day(self) -> bool:
        return self.first == self.last


@dataclass(frozen=True, slots=True)
class Refused:
    """A day the villager named that cannot be booked, and why (for the villager)."""

    reason: str


def chinese_number(text: str) -> int | None:
    """「5」「十二」「二十三」「三十一」 → the number; anything else → None."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return DIGITS.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if (tens and tens not in DIGITS) or (ones and ones not in DIGITS):
        return None
    return (DIGITS[tens] if tens else 1) * 10 + (DIGITS[ones] if ones else 0)


def day_label(day: date) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）"


def _month_day(year: int, month: int | None, day: int | None) -> date | Refused:
    if month is None or day is None or not 1 <= month <= 12:
        return Refused("日期没看懂，请说“12月5号”这样的日子。")
    try:
        return date(year, month, day)
    except ValueError:
        return Refused(f"{month}月没有{day}号，请换一天。")


def _weekday(match: re.Match[str], today: date) -> date:
    prefix, word = match.group(1), WEEKDAY_WORDS[match.group(2)]
    monday = today - timedelta(days=today.weekday())
    weeks = {"下": 1, "下下": 2}.get(prefix or "", 0)
    day = monday + timedelta(days=7 * weeks + word)
    if prefix is None and day < today:  # 「周一」 said on Wednesday: the coming Monday
        day += timedelta(days=7)
    return day


def _days(text: str, today: date, horizon: date) -> tuple[date, date, bool] | Refused | None:
    """The range of days named in `text`, with whether only market days count."""
    if MARKET.search(text):
        return today, horizon, True
    for word, offset in RELATIVE.items():
        if word in text:
            day = today + timedelta(days=offset)
            return day, day, False
    if match := WEEKEND.search(text):
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if match.group(1) == "下":
            saturday += timedelta(days=7)
        return max(saturday, today), saturday + timedelta(days=1), False
    if match := WEEKDAY.search(text):
        day = _weekday(match, today)
        return day, day, False
    if match := MONTH_DAY.search(text):
        month, number = chinese_number(match.group(1)), chinese_number(match.group(2))
        named = _month_day(today.year, month, number)
        if isinstance(named, date) and (today - named).days > 180:  # 「1月5号」 in December
            named = _month_day(today.year + 1, month, number)
        return named if isinstance(named, Refused) else (named, named, False)
    if match := DAY_ONLY.search(text):
        number = chinese_number(match.group(1))
        month, year = today.month, today.year
        if number is not None and number < today.day:  # 「5号」 on the 22nd: next month's
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        named = _month_day(year, month, number)
        return named if isinstance(named, Refused) else (named, named, False)
    if ANY_DAY.search(text):
        return today, horizon, False
    return None


def _hour(text: str, part: str | None) -> int | None:
    match = HOUR.search(text)
    hour = chinese_number(match.group(1)) if match else None
    if hour is None or hour > 23:
        return None
    if hour < 12 and (part in ("pm", "evening") or (part is None and hour <= 6)):
        hour += 12  # 「下午3点」「晚上7点」; a bare 「3点」 is in the afternoon
    return hour


def understand_when(text: str, today: date, horizon_days: int) -> When | Refused | None:
    """What day the villager means; None when the text names no day or time at all."""
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    horizon = today + timedelta(days=horizon_days)
    part = next((name for name, pattern in PARTS if pattern.search(text)), None)
    hour = _hour(text, part)
    days = _days(text, today, horizon)
    if days is None:
        if part is None and hour is None:
            return None
        days = (today, horizon, False)  # 「晚上」 alone: the nearest evenings
    if isinstance(days, Refused):
        return days
    first, last, market = days
    if last < today:
        return Refused(f"{day_label(last)}已经过去了，请说以后的日子。")
    if first > horizon:
        return Refused(f"只能预约{horizon_days}天以内的，{day_label(first)}还太远，"
                       f"请到时候再约。")
    return When(first, min(last, horizon), part, hour, market)
