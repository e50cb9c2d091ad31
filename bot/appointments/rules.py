"""Domain services stage: the booking rules of one center, from catalogue/booking.yml.

Which window takes which matters and when it opens (regular hours, extended hours on
evenings and Saturdays, market days by the lunar or Gregorian month), closures, the no-show
rules, and who makes home visits to which villages. Validated like the matters: every
problem names the file and the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from lunardate import LunarDate

from bot.catalogue.reading import CatalogueError, CatalogueProblem, read_yaml

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
KINDS = frozenset({"regular", "extended", "market"})
KIND_WORDS = {"regular": "", "extended": "延时服务", "market": "赶集日服务", "home": "上门"}


@dataclass(frozen=True, slots=True)
class Session:
    """One opening of a window: on working days, on listed weekend days (when they are not
    working days) or on market days; cut into slots of `minutes` with `capacity` places."""

    kind: str
    days: str  # workdays / weekdays / market
    start: time
    end: time
    minutes: int
    capacity: int
    weekdays: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    name: str
    place: str
    matters: frozenset[str]
    sessions: tuple[Session, ...]


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    role: str
    villages: tuple[str, ...]
    per_half_day: int

    @property
    def window(self) -> str:
        """Home visits take places in the agent's own half-day slots."""
        return f"home:{self.id}"


@dataclass(frozen=True, slots=True)
class HomeVisitRules:
    min_age: int
    days_ahead: int
    morning: tuple[time, time]
    afternoon: tuple[time, time]
    latitude: float
    longitude: float
    radius_km: float
    agents: tuple[Agent, ...]
    purposes: tuple[str, ...] = ()  # matters offered by number for 「上门帮办什么事？」

    def agent_for(self, place: str) -> Agent | None:
        """The agent whose village is named in `place` (an address or a location label)."""
        for agent in self.agents:
            if any(village in place for village in agent.villages):
                return agent
        return None

    def agent(self, agent_id: str) -> Agent | None:
        return next((a for a in self.agents if a.id == agent_id), None)

    def distance_km(self, latitude: float, longitude: float) -> float:
        """Great-circle distance from the center (haversine)."""
        lat1, lat2 = math.radians(self.latitude), math.radians(latitude)
        dlat, dlon = lat2 - lat1, math.radians(longitude - self.longitude)
        a = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
        return 6371.0 * 2 * math.asin(math.sqrt(a))

    def villages(self) -> list[str]:
        return [village for agent in self.agents for village in agent.villages]


@dataclass(frozen=True, slots=True)
class NoShowRule:
    limit: int
    within_days: int
    pause_days: int


@dataclass(frozen=True)
class BookingRules:
    horizon_days: int
    max_active: int
    late_cancel_hours: int
    no_show: NoShowRule
    market_lunar: bool
    market_days: frozenset[int]
    closures: dict[date, str]
    windows: tuple[Window, ...]
    home_visit: HomeVisitRules
    to_confirm: bool = False
    _by_matter: dict[str, Window] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for window in self.windows:
            for matter in window.matters:
                self._by_matter[matter] = window

    def window_for(self, matter_id: str) -> Window | None:
        return self._by_matter.get(matter_id)

    def window(self, window_id: str) -> Window | None:
        return next((w for w in self.windows if w.id == window_id), None)

    def is_market_day(self, day: date) -> bool:
        number = LunarDate.from_solar_date(day.year, day.month, day.day).day \
            if self.market_lunar else day.day
        return number in self.market_days


class _Reader:
    """Reads typed fields out of the YAML, collecting problems instead of stopping at one."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[CatalogueProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(CatalogueProblem(self.file, path, message))

    def number(self, data: dict[str, Any], key: str, path: str, minimum: float = 1,
               kind: type = int) -> Any:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum \
                or (kind is int and not isinstance(value, int)):
            self.problem(f"{path}{key}", f"应为不小于 {minimum} 的数")
            return kind(minimum)
        return kind(value)

    def text(self, data: dict[str, Any], key: str, path: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{path}{key}", "必填,应为一段文字")
            return ""
        return value.strip()

    def clock(self, data: dict[str, Any], key: str, path: str) -> time:
        value = data.get(key)
        try:
            hour, minute = (int(part) for part in str(value).split(":"))
            return time(hour, minute)
        except (TypeError, ValueError):
            self.problem(f"{path}{key}", "应为 HH:MM 格式的时间")
            return time(0)

    def mapping(self, data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            self.problem(f"{path}{key}", "缺少或格式不对")
            return {}
        return value

    def items(self, data: dict[str, Any], key: str, path: str) -> Iterator[tuple[str, Any]]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.problem(f"{path}{key}", "应为非空列表")
            return
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield f"{path}{key}[{index}].", item
            else:
                self.problem(f"{path}{key}[{index}]", "格式不对")


def _session(read: _Reader, data: dict[str, Any], path: str) -> Session:
    kind = data.get("kind")
    if kind not in KINDS:
        read.problem(f"{path}kind", "应为 regular、extended 或 market")
    days, weekdays = data.get("days"), frozenset[int]()
    if isinstance(days, list) and days and all(d in WEEKDAYS for d in days):
        weekdays, days = frozenset(WEEKDAYS[d] for d in days), "weekdays"
    elif days not in ("workdays", "market"):
        read.problem(f"{path}days", "应为 workdays、market 或星期列表如 [sat]")
    start, end = read.clock(data, "from", path), read.clock(data, "to", path)
    if end <= start:
        read.problem(f"{path}to", "结束时间应晚于开始时间")
    return Session(str(kind), str(days), start, end, read.number(data, "minutes", path, 5),
                   read.number(data, "capacity", path), weekdays)


def _home_visit(read: _Reader, data: dict[str, Any],
                matter_ids: frozenset[str] | None) -> HomeVisitRules:
    path = "home_visit."
    area = read.mapping(data, "area", path)
    agents = []
    for where, item in read.items(data, "agents", path):
        villages = item.get("villages")
        if not isinstance(villages, list) or not all(isinstance(v, str) for v in villages):
            read.problem(f"{where}villages", "应为村名列表")
            villages = []
        agents.append(Agent(read.text(item, "id", where), read.text(item, "name", where),
                            str(item.get("role", "")), tuple(villages),
                            read.number(item, "per_half_day", where)))
    purposes = data.get("purposes") or []
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        read.problem(f"{path}purposes", "应为事项编号列表")
        purposes = []
    for unknown in (p for p in purposes if matter_ids is not None and p not in matter_ids):
        read.problem(f"{path}purposes", f"没有这个事项: {unknown}")
    halves = [read.mapping(data, key, path) for key in ("morning", "afternoon")]
    morning, afternoon = ((read.clock(h, "from", path), read.clock(h, "to", path))
                          for h in halves)
    return HomeVisitRules(
        min_age=read.number(data, "min_age", path, 60), days_ahead=read.number(
            data, "days_ahead", path), morning=morning, afternoon=afternoon,
        latitude=read.number(area, "latitude", f"{path}area.", -90, float),
        longitude=read.number(area, "longitude", f"{path}area.", -180, float),
        radius_km=read.number(area, "radius_km", f"{path}area.", 1, float),
        agents=tuple(agents), purposes=tuple(purposes))


def _windows(read: _Reader, data: dict[str, Any], matter_ids: frozenset[str] | None
             ) -> tuple[Window, ...]:
    windows = []
    for where, item in read.items(data, "windows", ""):
        matters = item.get("matters")
        if not isinstance(matters, list) or not all(isinstance(m, str) for m in matters):
            read.problem(f"{where}matters", "应为事项编号列表")
            matters = []
        for matter in matters:
            if matter_ids is not None and matter not in matter_ids:
                read.problem(f"{where}matters", f"没有这个事项: {matter}")
        sessions = tuple(_session(read, s, w) for w, s in read.items(item, "sessions", where))
        windows.append(Window(read.text(item, "id", where), read.text(item, "name", where),
                              read.text(item, "place", where), frozenset(matters), sessions))
    return tuple(windows)


def load_booking_rules(directory: Path, matter_ids: frozenset[str] | None = None
                       ) -> BookingRules:
    """Read booking.yml; with `matter_ids`, every listed matter must exist in the catalogue."""
    file = directory / "booking.yml"
    read = _Reader(str(file))
    data = read_yaml(file, "缺少预约规则文件")
    if not isinstance(data, dict):
        raise CatalogueError([CatalogueProblem(read.file, "", "应为键值对")])
    market = read.mapping(data, "market_days", "")
    market_days = market.get("days") or []
    if not all(isinstance(d, int) and 1 <= d <= 31 for d in market_days):
        read.problem("market_days.days", "应为 1 到 31 的日子列表")
        market_days = []
    if market.get("calendar") not in ("lunar", "gregorian"):
        read.problem("market_days.calendar", "应为 lunar(农历)或 gregorian(公历)")
    closures: dict[date, str] = {}
    for where, item in (read.items(data, "closures", "") if data.get("closures") else ()):
        if not isinstance(item.get("date"), date):
            read.problem(f"{where}date", "应为 YYYY-MM-DD 日期")
            continue
        closures[item["date"]] = str(item.get("reason") or "中心不开门")
    no_show = read.mapping(data, "no_show", "")
    rules = BookingRules(
        horizon_days=read.number(data, "horizon_days", ""),
        max_active=read.number(data, "max_active", ""),
        late_cancel_hours=read.number(data, "late_cancel_hours", "", 0),
        no_show=NoShowRule(read.number(no_show, "limit", "no_show."),
                           read.number(no_show, "within_days", "no_show."),
                           read.number(no_show, "pause_days", "no_show.")),
        market_lunar=market.get("calendar") == "lunar", market_days=frozenset(market_days),
        closures=closures, windows=_windows(read, data, matter_ids),
        home_visit=_home_visit(read, read.mapping(data, "home_visit", ""), matter_ids),
        to_confirm=bool(data.get("to_confirm", False)))
    if read.problems:
        raise CatalogueError(read.problems)
    return rules
