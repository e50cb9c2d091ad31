"""Storage stage: finding rows — one page of a query and how many rows match in all (the
console's and the clerk API's lists, 「第 2/37 页」, counted and cut in SQL), and LIKE
patterns that take what a clerk typed literally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
PAGE_SIZE = 50  # rows a page, unless asked otherwise
MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000  # a page number typed into a URL is no reason for a huge OFFSET
LIKE_ESCAPE = "\\"


def _literal(text: str) -> str:
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def starts_with(prefix: str) -> str:
    """A LIKE pattern (escape LIKE_ESCAPE) for `prefix`, with % and _ taken literally: a
    btree index serves it."""
    return _literal(prefix) + "%"


def containing(words: str) -> str:
    """A LIKE pattern for `words` anywhere in the text (no index serves it: keep it to rows
    other filters have narrowed)."""
    return f"%{_literal(words)}%"


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # rows matching, on every page
    number: int  # from 1
    size: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.size)


async def fetch_page(session: AsyncSession, query: Select[Any], number: int,
                     size: int = PAGE_SIZE) -> Page[Any]:
    """Page `number` of `query` (which is ordered): counted first, so a number past the last
    page gives the last page."""
    size = min(max(size, 1), MAX_PAGE_SIZE)
    total = await session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(max(number, 1), page_count(total, size), MAX_PAGE)
    items = list(await session.scalars(query.offset((number - 1) * size).limit(size)))
    return Page(items, total, number, size)
