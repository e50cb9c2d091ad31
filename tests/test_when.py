"""Which day a villager means: 「明天」「周六」「下周一下午」「赶集那天」「随便」 and bad days."""

from datetime import date

import pytest

from bot.appointments.when import Refused, When, chinese_number, understand_when

SUNDAY = date(2026, 11, 22)
WEDNESDAY = date(2026, 11, 25)


def when(text, today=WEDNESDAY):
    return understand_when(text, today, 30)


@pytest.mark.parametrize(("text", "first", "last", "part"), [
    ("明天", date(2026, 11, 26), date(2026, 11, 26), None),
    ("后天下午", date(2026, 11, 27), date(2026, 11, 27), "pm"),
    ("大后天上午", date(2026, 11, 28), date(2026, 11, 28), "am"),
    ("周六", date(2026, 11, 28), date(2026, 11, 28), None),
    ("星期天", date(2026, 11, 29), date(2026, 11, 29), None),
    ("周一", date(2026, 11, 30), date(2026, 11, 30), None),  # Monday has passed: the next
    ("下周一下午", date(2026, 11, 30), date(2026, 11, 30), "pm"),
    ("下礼拜三", date(2026, 12, 2), date(2026, 12, 2), None),
    ("这周末", date(2026, 11, 28), date(2026, 11, 29), None),
    ("12月5号上午", date(2026, 12, 5), date(2026, 12, 5), "am"),
    ("十二月五日", date(2026, 12, 5), date(2026, 12, 5), None),
    ("3号", date(2026, 12, 3), date(2026, 12, 3), None),  # the 3rd has passed this month
    ("二十八号晚上", date(2026, 11, 28), date(2026, 11, 28), "evening"),
    ("随便，越快越好", WEDNESDAY, date(2026, 12, 25), None),
    ("晚上", WEDNESDAY, date(2026, 12, 25), "evening"),
])
def test_day_words(text, first, last, part):
    found = when(text)
    assert isinstance(found, When)
    assert (found.first, found.last, found.part) == (first, last, part)


def test_market_days_and_hours():
    market = when("赶集那天来")
    assert isinstance(market, When) and market.market and market.last == date(2026, 12, 25)
    assert when("明天下午3点").hour == 15
    assert when("晚上8点").hour == 20
    assert when("明天9点半").hour == 9


def test_a_new_year_date_said_in_december():
    found = understand_when("1月5号", date(2026, 12, 20), 30)
    assert isinstance(found, When) and found.first == date(2027, 1, 5)


@pytest.mark.parametrize(("text", "reason"), [
    ("2月30日", "2月没有30号"),
    ("11月20号", "已经过去了"),
    ("这周一", "已经过去了"),
    ("明年3月1号", "还太远"),
    ("十三月一号", "日期没看懂"),
])
def test_days_that_cannot_be_booked_say_why(text, reason):
    found = when(text)
    assert isinstance(found, Refused) and reason in found.reason


def test_no_day_at_all():
    assert when("残疾证要带什么") is None
    assert chinese_number("三十一") == 31 and chinese_number("十") == 10
    assert chinese_number("两") == 2 and chinese_number("廿") is None
