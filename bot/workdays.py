"""Domain services stage: working days (工作日) for promised deadlines and appointments.

A working day is Monday-Friday unless it is a public holiday, or a weekend day made a
working day by the holiday schedule (调休). Sources, in order: catalogue/holidays.yml (staff
add a year once the State Council publishes it), then the chinese-calendar library (2004 up
to the year it was released for). For a year neither covers the weekday rule is used and
every result says so (`assumed`), so the bot can state the assumption and clerks are warned;
the statutory holiday days themselves are still known then (`statutory_holiday`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import yaml
from lunardate import LunarDate

from bot.catalogue.reading import CatalogueError, CatalogueProblem

_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*~\s*(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class DueDate:
    day: date
    assumed: bool  # some day in the span was judged by the weekday rule alone


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # 调休: weekend days that are working days
    entered_years: frozenset[int] = field(default_factory=frozenset)

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, was that assumed)."""
        if day.year in self.entered_years:
            if day in self.workdays:
                return True, False
            return day.weekday() < 5 and day not in self.holidays, False
        try:
            return chinese_calendar.is_workday(day), False
        except NotImplementedError:
            return day.weekday() < 5 and not statutory_holiday(day), True

    def is_public_holiday(self, day: date) -> bool:
        """A day of a public holiday period (weekend days inside it included)."""
        if day.year in self.entered_years:
            return day in self.holidays
        try:
            return chinese_calendar.get_holiday_detail(day)[1] is not None
        except NotImplementedError:
            return statutory_holiday(day)

    def covers(self, year: int) -> bool:
        return not self.is_workday(date(year, 6, 1))[1]

    def add_working_days(self, start: date, days: int) -> DueDate:
        """The day `days` working days after `start` (the day of acceptance not counted);
        0 days (即办) is the same day."""
        day, assumed, remaining = start, False, days
        while remaining > 0:
            day += timedelta(days=1)
            working, guessed = self.is_workday(day)
            assumed |= guessed
            remaining -= working
        return DueDate(day, assumed)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)[0]
        return count


def statutory_holiday(day: date) -> bool:
    """The statutory days themselves (《全国年节及纪念日放假办法》, 2025), known before the
    year's schedule is published: 元旦, 春节 (除夕 to 初三), 清明, 劳动节, 端午, 中秋, 国庆.
    Bridging days and 调休 are not; the year's schedule adds them."""
    if (day.month, day.day) in {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}:
        return True
    short = day.year % 100  # 清明 by the solar-term rule for 2000-2099
    if day.month == 4 and day.day == int(short * 0.2422 + 4.81) - short // 4:
        return True
    lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    if (lunar.month, lunar.day) in {(1, 1), (1, 2), (1, 3), (5, 5), (8, 15)} \
            and not lunar.is_leap_month:
        return True
    tomorrow = LunarDate.from_solar_date(*(day + timedelta(days=1)).timetuple()[:3])
    return (tomorrow.month, tomorrow.day) == (1, 1)  # 除夕, the last day of the year


def _dates(value: object, where: str, file: str,
           problems: list[CatalogueProblem]) -> set[date]:
    days: set[date] = set()
    for item in value if isinstance(value, list) else []:
        if isinstance(item, date):
            days.add(item)
            continue
        match = _RANGE.match(str(item).strip())
        if match:
            first, last = (date.fromisoformat(g) for g in match.groups())
            days.update(first + timedelta(n) for n in range((last - first).days + 1))
        else:
            problems.append(CatalogueProblem(file, where, f"看不懂的日期「{item}」"))
    return days


def load_work_calendar(directory: Path) -> WorkCalendar:
    file = directory / "holidays.yml"
    if not file.exists():
        return WorkCalendar()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an impossible date (2027-13-01)
        raise CatalogueError([CatalogueProblem(str(file), "", f"格式或日期错误: {exc}")]) from None
    problems: list[CatalogueProblem] = []
    holidays: set[date] = set()
    workdays: set[date] = set()
    years: set[int] = set()
    for year, entry in data.items() if isinstance(data, dict) else []:
        if not isinstance(year, int) or not isinstance(entry, dict):
            problems.append(CatalogueProblem(str(file), str(year),
                                             "应为 年份: {holidays, workdays}"))
            continue
        years.add(year)
        holidays |= _dates(entry.get("holidays"), f"{year}.holidays", str(file), problems)
        workdays |= _dates(entry.get("workdays"), f"{year}.workdays", str(file), problems)
    if problems:
        raise CatalogueError(problems)
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))
