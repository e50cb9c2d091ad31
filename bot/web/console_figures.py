"""Channel stage (staff): the director's figures — the period, charts drawn as SVG, and the
CSV export (cells that spreadsheets would run as formulas are quoted).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from aiohttp import web

from bot import chinatime
from bot.console.accounts import Who
from bot.console.figures import Figures, figures
from bot.web.bodies import BadBody
from bot.web.console_base import (
    CONSOLE,
    page,
    render,
)
from bot.web.console_words import CHANNEL_WORDS

# --- figures, catalogue, audit ---------------------------------------------------------------


MAX_PERIOD_DAYS = 366  # the figures' longest period (a leap year)


def _period(request: web.Request, today: date) -> tuple[date, date]:
    """The figures' period: this month so far unless `from` and `to` say otherwise; at most
    MAX_PERIOD_DAYS (each day is a Redis read)."""
    try:
        first = chinatime.typed_day(request.query["from"]) if "from" in request.query \
            else today.replace(day=1)
        last = chinatime.typed_day(request.query["to"]) if "to" in request.query else today
    except ValueError:
        raise BadBody("日期应为 2000—2100 年的 YYYY-MM-DD") from None
    if not 0 <= (last - first).days < MAX_PERIOD_DAYS:
        raise BadBody(f"结束日期不能早于开始，最长 {MAX_PERIOD_DAYS} 天")
    return first, last


async def _figures(request: web.Request) -> Figures:
    services = request.app[CONSOLE]
    first, last = _period(request, services.bookings.today())
    names = {m.id: m.short_name for m in services.catalogue}
    found = await figures(services.sessions, services.redis, services.handoffs, first, last,
                          names)
    found.by_channel = [(CHANNEL_WORDS.get(c, c), n) for c, n in found.by_channel]
    return found


def bars(rows: list[tuple[str, int]], width: int = 520) -> dict[str, Any]:
    """An SVG bar chart's geometry: drawn by the template, no script, no CDN."""
    top = max((n for _, n in rows), default=0) or 1
    return {"height": 22 * len(rows) + 4, "width": width,
            "bars": [{"label": label, "count": n, "y": 22 * i + 2,
                      "w": max(1, int((width - 190) * n / top))}
                     for i, (label, n) in enumerate(rows[:15])]}


@page("director", "supervisor", "admin")
async def figures_page(request: web.Request, who: Who) -> web.Response:
    found = await _figures(request)
    charts = {"按事项": bars(found.by_matter), "按村": bars(found.by_village),
              "按渠道": bars(found.by_channel), "按月": bars(found.by_month),
              "满意度": bars(list(found.handoffs.get("ratings", {}).items()))}
    return render("figures.html", who, f=found, charts=charts)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A spreadsheet runs a cell starting with = + - @ (or tab, CR) as a formula: a village
    named =HYPERLINK(…) is written with a leading apostrophe, as text."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv_rows(found: Figures) -> list[list[object]]:
    rows: list[list[object]] = [["指标", "项目", "数值"],
                                ["期间", "", f"{found.first}至{found.last}"],
                                ["办件量", "合计", found.cases]]
    for title, counted in (("办件量", found.by_matter), ("按村", found.by_village),
                           ("按渠道", found.by_channel), ("按月", found.by_month)):
        rows.extend([title, label, n] for label, n in counted)
    rows.append(["按时办结率", "", f"{found.on_time_rate:.1%}" if found.on_time_rate
                 is not None else ""])
    rows.append(["平均办理天数", "", f"{found.average_days:.1f}" if found.average_days
                 is not None else ""])
    rows.extend(["满意度", label, n] for label, n in found.handoffs.get("ratings", {}).items())
    rows.append(["人工服务", "次数", found.handoffs.get("handoffs", 0)])
    rows.append(["机器人", "收到问题", found.questions])
    rows.append(["机器人", "用办事指南答上", found.answered])
    rows.append(["机器人解决率（只算答上了的）", "", f"{found.containment:.1%}"
                 if found.containment is not None else ""])
    return rows


@page("director", "supervisor", "admin")
async def figures_csv(request: web.Request, who: Who) -> web.Response:
    found = await _figures(request)
    out = io.StringIO()
    csv.writer(out).writerows([safe_cell(cell) for cell in row] for row in _csv_rows(found))
    body = "\ufeff" + out.getvalue()  # a BOM, so that Excel reads the Chinese right
    return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="figures-{found.first}-{found.last}.csv"'})
