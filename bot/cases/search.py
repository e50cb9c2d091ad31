"""Domain services stage: finding cases (办件) for the clerks — by receipt number, applicant
name, ID number, phone (in full or its last 4 digits), village, matter, status and the day
accepted (China days), newest first, a page at a time.

Every filter is SQL a database index serves (bot/storage/tables.py, alembic 0008): the
receipt and ID number by equality, the name and village by prefix (「王秀」 finds 王秀英), the
phone's last four by the expression index on them. The window rule travels with the query
(`matters`): a clerk's search never reaches another window's case, not even in the count.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, false, select

from bot import chinatime
from bot.cases.identity import normalize
from bot.cases.status import Status
from bot.storage.finding import LIKE_ESCAPE, starts_with
from bot.storage.tables import Case, LastFour


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """What a clerk searches by; empty fields do not filter."""

    receipt: str = ""
    name: str = ""  # the applicant's name, or its beginning
    id_number: str = ""
    phone: str = ""  # the whole number, or its last 4 digits
    village: str = ""  # the village, or its beginning
    matter: str = ""
    status: Status | None = None
    accepted_from: date | None = None  # China days, both included
    accepted_to: date | None = None
    matters: Collection[str] | None = None  # the window rule: these matters only; None: all


def _text_filters(query: CaseQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.receipt.strip():
        found.append(Case.receipt_no == normalize(query.receipt))
    if query.id_number.strip():
        found.append(Case.applicant_id_number == normalize(query.id_number))
    phone = normalize(query.phone)
    if len(phone) == 4:
        found.append(LastFour(Case.phone) == phone)
    elif phone:
        found.append(Case.phone == phone)
    for column, prefix in ((Case.applicant_name, query.name), (Case.village, query.village)):
        if prefix.strip():
            found.append(column.like(starts_with(prefix.strip()), escape=LIKE_ESCAPE))
    return found


def filters(query: CaseQuery) -> list[ColumnElement[bool]]:
    """The WHERE conditions of `query`, the window rule included."""
    found = _text_filters(query)
    if query.matter:
        found.append(Case.matter_id == query.matter)
    if query.status is not None:
        found.append(Case.status == query.status.value)
    if query.accepted_from is not None:
        found.append(Case.accepted_at >= chinatime.day_start(query.accepted_from))
    if query.accepted_to is not None:
        found.append(Case.accepted_at < chinatime.day_start(
            query.accepted_to + timedelta(days=1)))
    if query.matters is not None:  # an empty window sees nothing, never everything
        found.append(Case.matter_id.in_(list(query.matters)) if query.matters else false())
    return found


def search_query(query: CaseQuery) -> Select[Case]:
    """Matching cases, newest first (the id breaks ties: pages never repeat a row)."""
    return select(Case).where(*filters(query)).order_by(Case.accepted_at.desc(),
                                                       Case.id.desc())
