"""Channel stage (staff): the search forms of the console and the query parameters of the
clerk API — what was typed, checked (no NUL, not too long, real dates) and turned into the
services' queries; and the page links, which keep the filters.

    receipt name id_number phone village matter status from to    cases (办件)
    from to status matter words                                   handoffs (人工记录)
    day name phone                                                 a day's bookings
    number name phone matter status from to                        bookings (预约查询)
    villager (a name, phone or receipt number)                     handoffs too
    page (from 1), per_page (the API; at most 200)                 every paged list

Dates are China days typed as 2026-12-03 (an <input type="date"> sends them so).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from bot import chinatime
from bot.cases.identity import normalize
from bot.cases.search import CaseQuery
from bot.cases.status import Status
from bot.storage.finding import MAX_PAGE, PAGE_SIZE, Page
from bot.web.bodies import NUL_REFUSED, BadBody

MAX_TYPED = 40  # characters of one search field
CASE_FIELDS = ("receipt", "name", "id_number", "phone", "village", "matter", "status", "from",
               "to")
FIELD_WORDS = {"receipt": "受理编号", "name": "姓名", "id_number": "身份证号", "phone": "电话",
               "village": "村（社区）", "matter": "事项", "status": "状态", "from": "从",
               "to": "到", "words": "村民说的话", "day": "日期", "page": "页码",
               "per_page": "每页条数", "villager": "村民", "number": "预约号",
               "variant": "情形"}
PAGES_AROUND = 4  # page links either side of the current one


def typed(params: Mapping[str, str], key: str) -> str:
    """One field as typed, trimmed; BadBody for a NUL or an over-long one."""
    raw = params.get(key, "").strip()
    if "\x00" in raw:
        raise BadBody(f"{FIELD_WORDS[key]}：{NUL_REFUSED}")
    if len(raw) > MAX_TYPED:
        raise BadBody(f"{FIELD_WORDS[key]}：太长了")
    return raw


def typed_date(params: Mapping[str, str], key: str) -> date | None:
    raw = typed(params, key)
    try:
        return chinatime.typed_day(raw) if raw else None
    except ValueError:
        raise BadBody(f"{FIELD_WORDS[key]}：日期请写成 2026-12-03 这样") from None


def period(params: Mapping[str, str]) -> tuple[date | None, date | None]:
    """The `from` and `to` days (both included); BadBody when `to` is before `from`."""
    first, last = typed_date(params, "from"), typed_date(params, "to")
    if first and last and last < first:
        raise BadBody("结束日期早于开始日期")
    return first, last


def phone_typed(params: Mapping[str, str]) -> str:
    """The whole phone number or its last 4 digits, as stored (no spaces)."""
    phone = normalize(typed(params, "phone"))
    digits = phone.replace("-", "")  # a landline is stored as 0731-84561234
    if phone and not (digits.isascii() and digits.isdecimal() and len(digits) >= 4):
        raise BadBody("电话：写完整号码或后4位数字")
    # a mobile typed in groups (138-0000-1234) is stored as 11 digits
    return digits if len(digits) == 11 and digits.startswith("1") else phone


def case_status(params: Mapping[str, str]) -> Status | None:
    raw = typed(params, "status")
    try:
        return Status(raw) if raw else None
    except ValueError:
        raise BadBody(f"没有这个状态：{raw}") from None


def case_query(params: Mapping[str, str], matters: Collection[str] | None) -> CaseQuery:
    """The case search typed into the console or the API; `matters`: the window rule."""
    first, last = period(params)
    return CaseQuery(
        receipt=typed(params, "receipt"), name=typed(params, "name"),
        id_number=typed(params, "id_number"), phone=phone_typed(params),
        village=typed(params, "village"), matter=typed(params, "matter"),
        status=case_status(params), accepted_from=first, accepted_to=last, matters=matters)


def _number(params: Mapping[str, str], key: str, default: int, most: int) -> int:
    raw = typed(params, key)
    if not raw:
        return default
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 6) or int(raw) < 1:
        raise BadBody(f"{FIELD_WORDS[key]}：应为正整数")
    return min(int(raw), most)


def page_number(params: Mapping[str, str]) -> int:
    return _number(params, "page", 1, MAX_PAGE)


def page_size(params: Mapping[str, str], most: int) -> int:
    return _number(params, "per_page", PAGE_SIZE, most)


def filled(params: Mapping[str, str], fields: Collection[str]) -> dict[str, str]:
    """The filters in use, to fill the form again and to keep in page links."""
    return {key: value for key in fields if (value := params.get(key, "").strip())}


@dataclass(frozen=True, slots=True)
class Pager:
    """The links under a paged list: 「共 230 条 第 2/5 页 上一页 1 2 3 4 5 下一页」."""

    page: Page[Any]
    numbers: list[tuple[int, str]]  # (page number, its link) around the current page
    previous: str | None
    next: str | None


def pager(page: Page[Any], kept: Mapping[str, str]) -> Pager:
    def link(number: int) -> str:
        return "?" + urlencode({**kept, "page": number})

    around = range(max(1, page.number - PAGES_AROUND),
                   min(page.pages, page.number + PAGES_AROUND) + 1)
    return Pager(page, [(n, link(n)) for n in around],
                 link(page.number - 1) if page.number > 1 else None,
                 link(page.number + 1) if page.number < page.pages else None)
