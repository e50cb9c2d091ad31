"""Finding cases (issue #15): every filter a clerk has, the window rule inside the query,
pages, and the indexes each search can use — on PostgreSQL and on SQLite (`make run`)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from bot.cases.search import CaseQuery, filters
from bot.cases.service import CaseService
from bot.cases.status import Status
from bot.chinatime import CHINA
from bot.storage.db import open_database
from bot.storage.tables import Case
from tests.test_cases import CALENDAR, CATALOGUE, ID_NUMBER

OTHER_ID = "11010519800101001X"
PEOPLE = [  # receipt, name, ID number, phone, village, matter, status, accepted (China)
    ("BM261130AAAAA", "王秀英", ID_NUMBER, "13800001234", "石桥村", "dibao", "accepted",
     datetime(2026, 11, 30, 23, 30, tzinfo=CHINA)),
    ("BM261201BBBBB", "王秀兰", OTHER_ID, "13900005678", "石桥村", "senior_allowance",
     "reviewing", datetime(2026, 12, 1, 0, 30, tzinfo=CHINA)),
    ("BM261202CCCCC", "李秀英", OTHER_ID, "0731-84561234", "石门村", "pension_certification",
     "completed", datetime(2026, 12, 2, 9, 0, tzinfo=CHINA)),
    ("BM261203DDDDD", "王_英", ID_NUMBER, "13700009999", "桥头村", "dibao",
     "needs_materials", datetime(2026, 12, 3, 9, 0, tzinfo=CHINA)),
]


def case_row(receipt, name, id_number, phone, village, matter, status, accepted):
    return Case(receipt_no=receipt, matter_id=matter, channel="wechat", user_id=f"o_{receipt}",
                applicant_name=name, applicant_id_number=id_number, phone=phone,
                village=village, status=status, accepted_at=accepted, due_assumed=False)


async def _add(sessions, rows):
    async with sessions.begin() as session:
        session.add_all(rows)


@pytest.fixture
async def cases(sessions):
    await _add(sessions, [case_row(*person) for person in PEOPLE])
    return CaseService(sessions, CATALOGUE, CALENDAR)


SEARCHES = {  # what a clerk types → the receipts found, newest first
    "receipt, typed small": (CaseQuery(receipt=" bm261201bbbbb "), ["BM261201BBBBB"]),
    "the whole name": (CaseQuery(name="王秀英"), ["BM261130AAAAA"]),
    "the name's beginning": (CaseQuery(name="王秀"), ["BM261201BBBBB", "BM261130AAAAA"]),
    "_ is a character, not a wildcard": (CaseQuery(name="王_"), ["BM261203DDDDD"]),
    "% is a character too": (CaseQuery(name="王%"), []),
    "ID number, x small": (CaseQuery(id_number=ID_NUMBER.lower()),
                           ["BM261203DDDDD", "BM261130AAAAA"]),
    "the whole phone": (CaseQuery(phone="13900005678"), ["BM261201BBBBB"]),
    "the phone's last 4": (CaseQuery(phone="1234"), ["BM261202CCCCC", "BM261130AAAAA"]),
    "a landline": (CaseQuery(phone="0731-84561234"), ["BM261202CCCCC"]),
    "the village's beginning": (CaseQuery(village="石"),
                                ["BM261202CCCCC", "BM261201BBBBB", "BM261130AAAAA"]),
    "matter": (CaseQuery(matter="dibao"), ["BM261203DDDDD", "BM261130AAAAA"]),
    "status": (CaseQuery(status=Status.NEEDS_MATERIALS), ["BM261203DDDDD"]),
    # China days: 00:30 on 1 December in Beijing is still 30 November in UTC
    "accepted on one China day": (CaseQuery(accepted_from=date(2026, 12, 1),
                                            accepted_to=date(2026, 12, 1)), ["BM261201BBBBB"]),
    "accepted up to a day": (CaseQuery(accepted_to=date(2026, 11, 30)), ["BM261130AAAAA"]),
    "several filters at once": (CaseQuery(name="王", village="石桥", status=Status.ACCEPTED),
                                ["BM261130AAAAA"]),
}


@pytest.mark.parametrize(("query", "receipts"), SEARCHES.values(), ids=SEARCHES.keys())
async def test_each_filter_finds_what_the_clerk_means(cases, query, receipts):
    found = await cases.search(query)
    assert [c.receipt_no for c in found.items] == receipts and found.total == len(receipts)


async def test_a_search_never_reaches_another_windows_case(cases):
    civil = ["dibao", "senior_allowance"]  # 民政窗口's matters (a part of them)
    for query in (CaseQuery(receipt="BM261202CCCCC"), CaseQuery(phone="1234"),
                  CaseQuery(name="李"), CaseQuery(matter="pension_certification"),
                  CaseQuery(id_number=OTHER_ID)):
        found = await cases.search(CaseQuery(**{**_fields(query), "matters": civil}))
        assert "BM261202CCCCC" not in [c.receipt_no for c in found.items]
        assert found.total == len(found.items)  # not even counted
    assert (await cases.search(CaseQuery(matters=[]))).total == 0  # no matters: nothing
    assert (await cases.search(CaseQuery(matters=civil))).total == 3


def _fields(query):
    return {name: getattr(query, name) for name in query.__dataclass_fields__}


async def test_pages_are_cut_in_sql_newest_first_without_repeats(sessions):
    start = datetime(2026, 10, 1, tzinfo=UTC)
    await _add(sessions, [case_row(f"BM2610{n:05d}", "张三", ID_NUMBER, "13800001234", "石桥村",
                                   "dibao", "accepted", start + timedelta(hours=n % 7))
                          for n in range(120)])  # many share an accepted time: id decides
    cases = CaseService(sessions, CATALOGUE, CALENDAR)
    pages = [await cases.search(CaseQuery(), number, 50) for number in (1, 2, 3)]
    assert [(p.number, p.pages, p.total, len(p.items)) for p in pages] == [
        (1, 3, 120, 50), (2, 3, 120, 50), (3, 3, 120, 20)]
    seen = [c.receipt_no for p in pages for c in p.items]
    assert len(set(seen)) == 120
    times = [c.accepted_at for p in pages for c in p.items]
    assert times == sorted(times, reverse=True)
    beyond = await cases.search(CaseQuery(), 99, 50)
    assert beyond.number == 3 and len(beyond.items) == 20  # past the end: the last page


INDEXED = {  # a search → the index PostgreSQL can answer it with
    "name": (CaseQuery(name="王秀"), "ix_cases_applicant_name"),
    "phone's last 4": (CaseQuery(phone="1234"), "ix_cases_phone_last4"),
    "whole phone": (CaseQuery(phone="13800001234"), "ix_cases_phone"),
    "ID number": (CaseQuery(id_number=ID_NUMBER), "ix_cases_applicant_id_number"),
    "village": (CaseQuery(village="石桥"), "ix_cases_village"),
    "receipt": (CaseQuery(receipt="BM261130AAAAA"), "cases_receipt_no_key"),
    "accepted": (CaseQuery(accepted_from=date(2026, 12, 1)), "ix_cases_accepted_at"),
}


@pytest.mark.parametrize(("query", "index"), INDEXED.values(), ids=INDEXED.keys())
async def test_postgresql_can_use_an_index_for_each_search(cases, sessions, query, index):
    sql = select(Case.id).where(*filters(query)).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with sessions() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(await session.scalars(text(f"EXPLAIN {sql}")))
    assert index in plan, plan


async def test_the_same_search_works_on_sqlite_with_its_indexes(tmp_path):
    async with open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db") as sessions:
        await _add(sessions, [case_row(*person) for person in PEOPLE])
        cases = CaseService(sessions, CATALOGUE, CALENDAR)
        for query, receipts in SEARCHES.values():
            found = await cases.search(query)
            assert [c.receipt_no for c in found.items] == receipts, query
        sql = select(Case.id).where(*filters(CaseQuery(phone="1234"))).compile(
            dialect=sessions.kw["bind"].dialect, compile_kwargs={"literal_binds": True})
        async with sessions() as session:
            plan = str(list(await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))))
    assert "ix_cases_phone_last4" in plan, plan
