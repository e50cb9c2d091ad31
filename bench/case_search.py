"""Case search benchmark (issue #15 target), printed as figures, on PostgreSQL.

100,000 cases (varied names, ID numbers, phones, villages, matters, statuses, two years of
accepted dates) are copied into the table (COPY, a few seconds), then each kind of search
the console offers is timed through the service the console's handler calls
(`CaseService.search`: the count and one page of 50, rows loaded as the page gets them;
the page's HTML rendering is not included): p50 and p99 per kind (target p99 ≤ 150 ms).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from bench.common import fresh_database, percentile
from bot.cases.search import CaseQuery, filters
from bot.cases.service import CaseService
from bot.cases.status import Status
from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.storage.db import open_database
from bot.storage.tables import Case
from bot.workdays import load_work_calendar

DATABASE = "bianmin_bench_search"
CASES = 100_000
QUERIES = 200  # of each kind
TARGET_MS = 150
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "秀英兰芳华明建国军平红梅丽强伟勇杰娟霞玉珍桂凤春海涛洪文斌志德永福"
VILLAGES = [f"{a}{b}村" for a in "石桥东西南北新老" for b in "山河湾岭坪"]  # 40
STATUSES = [("reviewing", 40), ("accepted", 15), ("completed", 30), ("needs_materials", 5),
            ("reported", 5), ("returned", 3), ("rejected", 2)]
COLUMNS = ("receipt_no", "matter_id", "channel", "user_id", "applicant_name",
           "applicant_id_number", "phone", "village", "status", "accepted_at", "due_date",
           "due_assumed", "promised_days")
START = datetime(2025, 1, 1, tzinfo=UTC)


def people(rng: random.Random, matters: list[str]) -> list[tuple[object, ...]]:
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    rows = []
    for n in range(CASES):
        accepted = START + timedelta(minutes=10 * n + rng.randrange(10))
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        rows.append((f"BS{n:011d}", matters[n % len(matters)], "wechat", f"o_user_{n % 30_000}",
                     name, f"{rng.randrange(10 ** 17):017d}X", f"1{rng.randrange(10 ** 10):010d}",
                     rng.choice(VILLAGES), rng.choice(statuses), accepted,
                     accepted.date() + timedelta(days=30), False, 20))
    return rows


async def fill(sessions: object, rows: list[tuple[object, ...]]) -> float:
    """COPY the rows in (asyncpg's binary copy), then ANALYZE; seconds taken."""
    started = time.perf_counter()
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        raw = await (await session.connection()).get_raw_connection()
        await raw.driver_connection.copy_records_to_table("cases", records=rows,
                                                          columns=COLUMNS)
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        await session.execute(text("ANALYZE cases"))
    return time.perf_counter() - started


def kinds(rows: list[tuple[object, ...]], civil: list[str]
          ) -> dict[str, Callable[[random.Random], tuple[CaseQuery, int]]]:
    """Each kind of search: a random query of it (and the page asked for)."""
    def row(rng: random.Random) -> tuple[object, ...]:
        return rng.choice(rows)

    def days(rng: random.Random, many: int, **more: object) -> tuple[CaseQuery, int]:
        first = (START + timedelta(days=rng.randrange(700))).date()
        return CaseQuery(accepted_from=first, accepted_to=first + timedelta(days=many - 1),
                         **more), 1  # type: ignore[arg-type]

    return {
        "receipt number": lambda r: (CaseQuery(receipt=str(row(r)[0])), 1),
        "whole name": lambda r: (CaseQuery(name=str(row(r)[4])), 1),
        "name's first 2 characters": lambda r: (CaseQuery(name=str(row(r)[4])[:2]), 1),
        "ID number": lambda r: (CaseQuery(id_number=str(row(r)[5])), 1),
        "whole phone": lambda r: (CaseQuery(phone=str(row(r)[6])), 1),
        "phone's last 4": lambda r: (CaseQuery(phone=str(row(r)[6])[-4:]), 1),
        "village": lambda r: (CaseQuery(village=str(row(r)[7])), 1),
        "matter": lambda r: (CaseQuery(matter=str(row(r)[1])), 1),
        "status 待补正": lambda r: (CaseQuery(status=Status.NEEDS_MATERIALS), 1),
        "a week accepted": lambda r: days(r, 7),
        "everything, page 1": lambda r: (CaseQuery(), 1),
        "everything, page 1-200": lambda r: (CaseQuery(), r.randrange(1, 201)),
        "a 民政 clerk, page 1": lambda r: (CaseQuery(matters=civil), 1),
        "a 民政 clerk: status, month": lambda r: days(r, 30, matters=civil,
                                                     status=Status.REVIEWING),
        "a 民政 clerk: phone's last 4": lambda r: (CaseQuery(
            matters=civil, phone=str(row(r)[6])[-4:]), 1),
    }


async def indexes_used(sessions: object, query: CaseQuery) -> list[str]:
    """The indexes PostgreSQL's plan for the search's filter uses."""
    sql = select(Case.id).where(*filters(query)).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with sessions() as session:  # type: ignore[operator]
        plan = "\n".join(await session.scalars(text(f"EXPLAIN {sql}")))
    return sorted(set(word for word in plan.replace("(", " ").split() if word.startswith(
        ("ix_", "cases_"))))


async def main() -> None:
    catalogue = load_catalogue(ROOT / "catalogue")
    rng = random.Random(15)
    rows = people(rng, [m.id for m in catalogue])
    civil = sorted(m.id for m in catalogue if m.window == "民政窗口")
    url = await fresh_database(DATABASE)
    print(f"case search benchmark: PostgreSQL, {os.cpu_count()} CPUs, through "
          f"CaseService.search (count + a page of 50)", flush=True)
    async with open_database(url) as sessions:
        print(f"copied {CASES} cases in {await fill(sessions, rows):.1f} s", flush=True)
        cases = CaseService(sessions, catalogue, load_work_calendar(ROOT / "catalogue"))
        worst = 0.0
        for kind, make in kinds(rows, civil).items():
            times, found = [], 0
            for _ in range(QUERIES):
                query, page = make(rng)
                started = time.perf_counter()
                result = await cases.search(query, page)
                times.append(time.perf_counter() - started)
                found += result.total
            p99 = percentile(times, 0.99) * 1000
            worst = max(worst, p99)
            used = ", ".join(await indexes_used(sessions, make(rng)[0])) or "none"
            print(f"{kind:<30} p50 {statistics.median(times) * 1000:6.1f} ms  p99 {p99:6.1f} ms"
                  f"  ({found / QUERIES:,.0f} found on average; index: {used})", flush=True)
    await fresh_database(DATABASE)
    print(f"worst p99 {worst:.1f} ms (target ≤ {TARGET_MS} ms): "
          f"{'met' if worst <= TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
