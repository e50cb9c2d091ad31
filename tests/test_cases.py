"""Applications on real PostgreSQL: receipt, deadlines in working days, the status rules."""

import asyncio
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.cases.application import MaterialItem, NewCase
from bot.cases.identity import (
    id_number_problem,
    mask_id_number,
    mask_numbers_in,
    mask_phone,
    phone_problem,
)
from bot.cases.progress import timeline
from bot.cases.service import CaseError, CaseService
from bot.cases.status import Status
from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.storage.tables import DomainEvent
from bot.workdays import load_work_calendar
from tests import conftest

CATALOGUE = load_catalogue(ROOT / "catalogue")
CALENDAR = load_work_calendar(ROOT / "catalogue")
ID_NUMBER = "11010519491231002X"  # a valid check digit
BEIJING = ZoneInfo("Asia/Shanghai")
# Tuesday 1 December 2026 at 00:30 and 23:30 in Beijing; at 00:30 it is still Monday in UTC.
NIGHT = {"00:30": datetime(2026, 12, 1, 0, 30, tzinfo=BEIJING),
         "23:30": datetime(2026, 12, 1, 23, 30, tzinfo=BEIJING)}


class Clock:
    def __init__(self, day):
        self.now = datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)

    def __call__(self):
        return self.now

    def set(self, day):
        self.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(date(2026, 11, 20))  # a Friday


@pytest.fixture
def cases(sessions, clock):
    return CaseService(sessions, CATALOGUE, CALENDAR, clock)


def application(**changes):
    fields = dict(matter_id="dibao", channel="wechat", user_id="o_mother",
                  applicant_name="王秀英", applicant_id_number=ID_NUMBER, phone="13800001234",
                  village="石桥村",
                  materials=[MaterialItem("书面申请书", "received", None),
                             MaterialItem("一寸免冠照片", "at_window")])
    fields.update(changes)
    return NewCase(**fields)


def test_id_numbers_and_phones_are_checked_and_masked():
    assert id_number_problem(ID_NUMBER) is None
    assert "校验" in id_number_problem("110105194912310021")
    assert "18位" in id_number_problem("12345")
    assert "出生日期" in id_number_problem("110105194913310025")
    assert mask_id_number(ID_NUMBER) == "1101**********002X"
    assert phone_problem("13800001234") is None and phone_problem("0731-84561234") is None
    assert phone_problem("1380000") is not None
    assert mask_phone("13800001234") == "138****1234"


@pytest.mark.parametrize(("typed", "shown"), [
    ("我电话13800001234，身份证11010519491231002X", "我电话138****1234，身份证1101**********002X"),
    ("电话 138 0000 1234 谢谢", "电话 138****1234 谢谢"),
    ("电话138-0000-1234", "电话138****1234"),
    ("身份证 110105 19491231 002X", "身份证 1101**********002X"),
    ("号码１３８００００１２３４", "号码１３８****１２３４"),
    ("电话138—0000—1234", "电话138****1234"),
    ("受理编号BM261130ABCDE，3个工作日", "受理编号BM261130ABCDE，3个工作日"),
    ("2026-11-30 10:00 到窗口", "2026-11-30 10:00 到窗口"),
    ("2026-11-30 2026-12-01 10:00", "2026-11-30 2026-12-01 10:00"),
    ("编号 20261130 1234567890", "编号 20261130 1234567890"),
    ("13800001234 1234567", "138****1234 1234567"),
    ("138 0000 1234 5", "138****1234 5"),
])
def test_numbers_in_a_transcript_are_masked_however_they_are_typed(typed, shown):
    assert mask_numbers_in(typed) == shown


async def test_submit_gives_a_receipt_and_a_due_date_in_working_days(cases, sessions):
    case = await cases.submit(application())
    assert case.receipt_no.startswith("BM261120") and len(case.receipt_no) == 13
    assert Status(case.status) is Status.ACCEPTED
    assert case.promised_days == 34
    assert case.due_date == CALENDAR.add_working_days(date(2026, 11, 20), 34).day
    assert [m.state for m in case.materials] == ["received", "at_window"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DomainEvent)) == 1


@pytest.mark.parametrize("beijing", NIGHT.values(), ids=NIGHT.keys())
async def test_receipt_acceptance_and_deadlines_count_china_days(sessions, server_tz, beijing):
    clock = conftest.Clock(beijing.astimezone(UTC))  # the server's clock runs in UTC
    cases = CaseService(sessions, CATALOGUE, CALENDAR, clock)
    case = await cases.submit(application(matter_id="hukou_move_in"))  # 7 working days
    assert case.receipt_no.startswith("BM261201")
    assert case.due_date == CALENDAR.add_working_days(date(2026, 12, 1), 7).day
    assert timeline(case, "户口迁入").split("\n")[1].startswith("12月1日 已受理")
    five_days_used = CALENDAR.add_working_days(date(2026, 12, 1), 5).day
    assert cases.supervision_mark(case, five_days_used) == "ok"  # 5 of 7: not yet 80 %
    assert cases.today() == date(2026, 12, 1)


async def test_immediate_matters_are_due_the_same_day(cases):
    case = await cases.submit(application(matter_id="hukou_certificate"))
    assert case.due_date == date(2026, 11, 20)


async def test_a_deadline_in_a_year_without_holidays_is_flagged(cases, clock):
    clock.set(date(2026, 12, 20))
    case = await cases.submit(application())
    assert case.due_date.year == 2027 and case.due_assumed


@pytest.mark.parametrize(("changes", "words"), [
    ({"applicant_id_number": "110105194912310021"}, "校验"),
    ({"phone": "12345"}, "电话号码不对"),
    ({"matter_id": "no_such_thing"}, "没有这个事项"),
])
async def test_bad_applications_are_refused_in_plain_words(cases, changes, words):
    with pytest.raises(CaseError, match=words):
        await cases.submit(application(**changes))


async def test_the_same_draft_submitted_twice_is_one_case(cases):
    results = await asyncio.gather(*(cases.submit(application(draft_key="draft-1"))
                                     for _ in range(4)))
    assert len({case.receipt_no for case in results}) == 1


async def test_a_case_goes_through_supplement_report_and_completion(cases, clock):
    case = await cases.submit(application())
    first_due = case.due_date
    await cases.move(case.receipt_no, Status.REVIEWING, "民政窗口李四")
    clock.set(date(2026, 11, 23))  # Monday
    waiting = await cases.move(case.receipt_no, Status.NEEDS_MATERIALS, "民政窗口李四",
                               missing=["家庭收入状况证明"])
    assert waiting.paused_since == date(2026, 11, 23)
    clock.set(date(2026, 11, 30))  # a week later the villager brings it: 5 working days paused
    resumed = await cases.move(case.receipt_no, Status.REVIEWING, "民政窗口李四",
                               reason="材料已补齐")
    assert resumed.due_date == CALENDAR.add_working_days(first_due, 5).day
    await cases.move(case.receipt_no, Status.REPORTED, "民政窗口李四", reason="报县民政局")
    done = await cases.move(case.receipt_no, Status.COMPLETED, "民政窗口李四", result="可领取")
    assert (done.status, done.result) == ("completed", "可领取") and done.closed_at
    assert [c.to_status for c in done.changes] == [
        "accepted", "reviewing", "needs_materials", "reviewing", "reported", "completed"]
    assert done.changes[2].missing == ["家庭收入状况证明"]


@pytest.mark.parametrize(("path", "words"), [
    ([Status.REPORTED], "不能从"),
    ([Status.REVIEWING, Status.JOINT], "上报件不走"),
    ([Status.REVIEWING, Status.NEEDS_MATERIALS], "列出"),
    ([Status.REJECTED], "理由"),
    ([Status.COMPLETED], "不能受理后直接办结"),
    ([Status.REVIEWING, Status.COMPLETED], "要先「已上报」"),
])
async def test_illegal_moves_are_refused(cases, path, words):
    case = await cases.submit(application())
    with pytest.raises(CaseError, match=words):
        for target in path:
            await cases.move(case.receipt_no, target, "窗口")


async def test_a_closed_case_stays_closed(cases):
    case = await cases.submit(application(matter_id="hukou_certificate"))
    await cases.move(case.receipt_no, Status.COMPLETED, "户籍窗口", result="已送达")
    with pytest.raises(CaseError, match="不能从「已办结」"):
        await cases.move(case.receipt_no, Status.REVIEWING, "户籍窗口")


async def test_only_the_owner_or_someone_with_the_phone_reads_a_case(cases):
    case = await cases.submit(application())
    assert await cases.find_for(case.receipt_no, user_id="o_mother") is not None
    assert await cases.find_for(case.receipt_no.lower(), phone_last4="1234") is not None
    assert await cases.find_for(case.receipt_no, user_id="o_stranger") is None
    assert await cases.find_for(case.receipt_no, phone_last4="9999") is None
    assert await cases.find_for("BM261120ZZZZZ", user_id="o_mother") is None
    assert [c.receipt_no for c in await cases.cases_of("o_mother")] == [case.receipt_no]


async def test_supervision_lists_cases_near_and_past_their_deadline(cases, clock):
    quick = await cases.submit(application(matter_id="hukou_move_in"))  # 7 working days
    slow = await cases.submit(application())  # 34 working days
    warning, overdue = await cases.supervision(CALENDAR.add_working_days(date(2026, 11, 20), 6).day)
    assert [c.receipt_no for c in warning] == [quick.receipt_no] and overdue == []
    warning, overdue = await cases.supervision(date(2026, 12, 10))
    assert [c.receipt_no for c in overdue] == [quick.receipt_no]
    assert slow.receipt_no not in {c.receipt_no for c in warning + overdue}


async def test_migrations_also_run_on_sqlite_for_make_run(tmp_path, clock):
    from bot.storage.db import open_database

    async with open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db") as sessions:
        service = CaseService(sessions, CATALOGUE, CALENDAR, clock)
        case = await service.submit(application(draft_key="sqlite-draft"))
        assert (await service.submit(application(draft_key="sqlite-draft"))).id == case.id
        moved = await service.move(case.receipt_no, Status.REVIEWING, "窗口")
        assert moved.status == "reviewing"


async def test_photos_of_long_closed_cases_are_deleted_but_shared_ones_stay(cases, clock,
                                                                            tmp_path):
    from datetime import timedelta

    from bot.storage.files import LocalFileStore

    store = LocalFileStore(tmp_path)
    photo = await store.save(b"\xff\xd8\xff\xe0" + b"hukou book" * 100)
    other = await store.save(b"\xff\xd8\xff\xe0" + b"an old photo" * 100)
    ids = [await cases.record_file(saved) for saved in (photo, photo, other)]
    old = await cases.submit(application(draft_key="old", materials=[
        MaterialItem("户口簿", "received", ids[0]), MaterialItem("照片", "received", ids[2])]))
    await cases.submit(application(draft_key="open", materials=[
        MaterialItem("户口簿", "received", ids[1])]))  # the same photo, a case still open
    await cases.move(old.receipt_no, Status.REJECTED, "李四", reason="不符合条件")
    assert await cases.purge_files(30, store) == 0  # closed today: kept
    clock.now += timedelta(days=31)
    assert await cases.purge_files(30, store) == 2
    assert not (tmp_path / other.location).exists()
    assert (tmp_path / photo.location).exists()  # the open case still has it
    purged = await cases.get(old.receipt_no)
    assert [m.file_id for m in purged.materials] == [None, None]
    assert await cases.purge_files(30, store) == 0
