"""Domain services stage: the center itself — name, address, phone, office hours.

Read from catalogue/center.yml, beside the matters, validated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalogue.reading import CatalogueError, CatalogueProblem, read_yaml


@dataclass(frozen=True, slots=True)
class OfficeHours:
    weekdays: str
    lunch_break: str
    extended: tuple[str, ...]
    market_days: str
    holidays: str


@dataclass(frozen=True, slots=True)
class Center:
    name: str
    address: str
    phone: str
    hours: OfficeHours
    to_confirm: bool = False


def _text(data: dict[str, Any], key: str, file: str, problems: list[CatalogueProblem],
          path: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(CatalogueProblem(file, f"{path}{key}", "必填,应为一段文字"))
        return ""
    return value.strip()


def load_center(directory: Path) -> Center:
    file = directory / "center.yml"
    shown = str(file)
    data = read_yaml(file, "缺少中心信息文件")
    problems: list[CatalogueProblem] = []
    if not isinstance(data, dict) or not isinstance(data.get("hours"), dict):
        raise CatalogueError([CatalogueProblem(shown, "hours", "应写明办公时间 hours")])
    hours = data["hours"]
    extended = hours.get("extended") or []
    if not isinstance(extended, list) or not all(isinstance(e, str) for e in extended):
        problems.append(CatalogueProblem(shown, "hours.extended", "应为文字列表"))
        extended = []
    center = Center(
        name=_text(data, "name", shown, problems),
        address=_text(data, "address", shown, problems),
        phone=_text(data, "phone", shown, problems),
        hours=OfficeHours(
            weekdays=_text(hours, "weekdays", shown, problems, "hours."),
            lunch_break=_text(hours, "lunch_break", shown, problems, "hours."),
            extended=tuple(extended),
            market_days=_text(hours, "market_days", shown, problems, "hours."),
            holidays=_text(hours, "holidays", shown, problems, "hours."),
        ),
        to_confirm=bool(data.get("to_confirm", False)),
    )
    if problems:
        raise CatalogueError(problems)
    return center
