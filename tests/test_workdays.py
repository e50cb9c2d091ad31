"""Promised deadlines in working days: weekends, public holidays, 调休 make-up days."""

from datetime import date, timedelta

import pytest

from bot.catalogue.loader import CatalogueError
from bot.config import ROOT
from bot.workdays import WorkCalendar, load_work_calendar


@pytest.fixture(scope="module")
def calendar():
    return load_work_calendar(ROOT / "catalogue")


def test_immediate_is_the_same_day(calendar):
    assert calendar.add_working_days(date(2026, 11, 20), 0).day == date(2026, 11, 20)


def test_weekends_are_skipped(calendar):
    # Friday + 1 working day = Monday.
    due = calendar.add_working_days(date(2026, 11, 20), 1)
    assert (due.day, due.assumed) == (date(2026, 11, 23), False)


def test_national_day_holiday_is_skipped(calendar):
    # Accepted on 30 September 2026: the first working day after is after the Golden Week.
    due = calendar.add_working_days(date(2026, 9, 30), 1)
    assert due.day > date(2026, 10, 7) and not due.assumed


def test_a_make_up_weekend_workday_counts(calendar):
    year = (date(2026, 1, 1) + timedelta(n) for n in range(365))
    make_up = [d for d in year if d.weekday() >= 5 and calendar.is_workday(d)[0]]
    assert make_up, "2026 has 调休 weekend workdays"
    day_before = make_up[0] - timedelta(days=1)
    assert calendar.add_working_days(day_before, 1).day == make_up[0]


def test_a_year_the_library_does_not_cover_is_assumed_and_says_so(calendar):
    # Accepted on 20 December 2026, 34 working days: the due date falls in 2027.
    due = calendar.add_working_days(date(2026, 12, 20), 34)
    assert due.day.year == 2027 and due.assumed
    assert not calendar.covers(2027) and calendar.covers(2026)


def test_a_year_entered_locally_is_used(tmp_path):
    (tmp_path / "holidays.yml").write_text(
        "2027:\n  holidays:\n    - 2027-01-01\n    - 2027-02-05 ~ 2027-02-11\n"
        "  workdays:\n    - 2027-02-14\n", encoding="utf-8")
    calendar = load_work_calendar(tmp_path)
    assert calendar.covers(2027)
    assert calendar.is_workday(date(2027, 2, 8)) == (False, False)  # a Monday in the holiday
    assert calendar.is_workday(date(2027, 2, 14)) == (True, False)  # the Sunday made up
    due = calendar.add_working_days(date(2026, 12, 31), 1)
    assert due == type(due)(date(2027, 1, 4), False)  # skips New Year's Day and the weekend


def test_working_days_between_for_paused_clocks(calendar):
    assert calendar.working_days_between(date(2026, 11, 20), date(2026, 11, 27)) == 5
    assert calendar.working_days_between(date(2026, 11, 27), date(2026, 11, 20)) == 0


def test_a_typo_in_the_holiday_file_is_reported(tmp_path):
    (tmp_path / "holidays.yml").write_text("2027:\n  holidays:\n    - 2027-13-01\n",
                                           encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_work_calendar(tmp_path)
    assert "holidays.yml" in caught.value.problems[0].file
    (tmp_path / "holidays.yml").write_text("2027:\n  holidays:\n    - 春节那几天\n",
                                           encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_work_calendar(tmp_path)
    assert caught.value.problems[0].field == "2027.holidays"


def test_no_file_means_library_and_weekday_rule_only():
    assert WorkCalendar().is_workday(date(2030, 1, 7)) == (True, True)


def test_statutory_days_are_known_before_the_schedule_is_published(calendar):
    """2027 is not published: 元旦, 春节 (除夕 to 初三), 清明, 端午, 中秋 and 国庆 still are."""
    for day in (date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5),
                date(2027, 5, 3) - timedelta(days=1), date(2027, 6, 9), date(2027, 9, 15),
                date(2027, 10, 1)):
        assert calendar.is_public_holiday(day), day
        assert calendar.is_workday(day) == (False, True), day
    assert calendar.is_workday(date(2027, 2, 9)) == (True, True)  # 初四, a Tuesday
