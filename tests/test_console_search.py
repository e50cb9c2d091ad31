"""The console's find-and-page and its printouts (issue #15, items 2 and 3), as a clerk sees
them: the search forms, the window rule, page links that keep the filters, a day's bookings,
past handoffs, the 受理回执 and the 一次性告知单."""

import dataclasses
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.appointments.service import BookingRequest
from bot.chinatime import CHINA
from bot.storage.tables import AuditEntry, Case, CaseMaterial
from bot.web.console_base import CONSOLE
from tests.test_apply import CLERK
from tests.test_cases import ID_NUMBER
from tests.test_console import Clerk, clock, start_console  # noqa: F401 (a fixture)

CIVIL, SOCIAL = "BM261120CIVIL", "BM261120SOCAL"
ACCEPTED = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA)
FORM_FIELDS = ("receipt", "name", "id_number", "phone", "village", "matter", "status", "from",
               "to")


@pytest.fixture
async def app_client(nlu_settings, real_redis, sessions, tmp_path, clock):  # noqa: F811
    """The console; no villager talks here, so no NLU service is started."""
    no_nlu = dataclasses.replace(nlu_settings, nlu_url="http://127.0.0.1:9")
    client = await start_console(no_nlu, tmp_path, clock)
    yield client
    await client.close()


def case_row(receipt, matter, name, phone, accepted, **more):
    return Case(receipt_no=receipt, matter_id=matter, channel="wechat", user_id=f"o_{receipt}",
                applicant_name=name, applicant_id_number=ID_NUMBER, phone=phone,
                village="石桥村", status="accepted", accepted_at=accepted, due_assumed=False,
                **more)


@pytest.fixture
async def filed(sessions):
    """A 低保 case (民政窗口), a 养老金资格认证 case (社会保障窗口) with the same phone's last
    four, and 60 民政 cases of 张三 over the first days of November."""
    rows = [case_row(CIVIL, "dibao", "王秀英", "13800001234", ACCEPTED, variant_id="rural",
                     due_date=datetime(2026, 12, 31).date(), promised_days=27,
                     materials=[CaseMaterial(position=0, name="户主居民身份证", state="received"),
                                CaseMaterial(position=1, name="一寸免冠照片",
                                             state="at_window")]),
            case_row(SOCIAL, "pension_certification", "王秀兰", "13900001234", ACCEPTED)]
    rows += [case_row(f"BM2611{n:02d}ZHANG", "senior_allowance", "张三", "13700000000",
                      datetime(2026, 11, 1, 8, tzinfo=CHINA) + timedelta(hours=n))
             for n in range(60)]
    async with sessions.begin() as session:
        session.add_all(rows)


@pytest.fixture
async def clerks(app_client):
    li, zhou, wang = Clerk(app_client), Clerk(app_client), Clerk(app_client)
    await li.login("li", "password-li")
    await zhou.login("zhou", "password-zhou")
    await wang.login("wang", "password-wang")
    yield li, zhou, wang
    for clerk in (li, zhou, wang):
        await clerk.close()


def receipts(page):
    return re.findall(r'href="/console/cases/(BM\w+)"', page)


async def test_the_search_form_has_labelled_fields_and_keeps_what_was_typed(filed, clerks):
    li, _, _ = clerks
    page = await li.get("/console/cases?name=%E7%8E%8B%E7%A7%80&phone=1234")
    for name in FORM_FIELDS:
        assert f'name="{name}"' in page and f'<label for="search-{name}">' in page, name
    assert 'value="王秀"' in page and 'value="1234"' in page
    assert receipts(page) == [CIVIL]
    assert "<option value=\"needs_materials\">待补正</option>" in page  # statuses in words
    matters = page.split('id="search-matter"')[1].split("</select>")[0]
    assert 'value="dibao"' in matters and "pension_certification" not in matters


async def test_a_clerk_finds_only_their_windows_cases(filed, clerks):
    li, zhou, wang = clerks
    for query, civil in (("phone=1234", 1), (f"receipt={SOCIAL}", 0), ("name=%E7%8E%8B", 1),
                         ("matter=pension_certification", 0), (f"id_number={ID_NUMBER}", 61)):
        page = await li.get(f"/console/cases?{query}")
        assert SOCIAL not in receipts(page), query
        assert f'<span id="total">{civil}</span>' in page, query  # nor counted
        assert SOCIAL in receipts(await wang.get(f"/console/cases?{query}")), query
    assert "没有符合条件的办件" in await li.get(f"/console/cases?receipt={SOCIAL}")
    assert receipts(await zhou.get("/console/cases?phone=1234")) == [SOCIAL]
    assert receipts(await li.get(f"/console/cases?receipt={CIVIL.lower()}")) == [CIVIL]
    listed = await (await li.session.get(li.server.make_url(
        f"/api/clerk/cases?receipt={SOCIAL}"), headers=CLERK)).json()
    assert listed["cases"] == [] and listed["total"] == 0


async def test_pages_of_fifty_with_links_that_keep_the_filters(filed, clerks):
    li, _, _ = clerks
    first = await li.get("/console/cases?name=%E5%BC%A0%E4%B8%89")
    assert len(receipts(first)) == 50 and receipts(first)[0] == "BM261159ZHANG"  # newest
    assert '<span id="total">60</span> 条，第 1/2 页' in first
    following = re.search(r'id="page-next" rel="next" href="([^"]+)"', first).group(1)
    assert following.replace("&amp;", "&") == "?name=%E5%BC%A0%E4%B8%89&page=2"
    second = await li.get("/console/cases" + following.replace("&amp;", "&"))
    assert len(receipts(second)) == 10 and receipts(second)[-1] == "BM261100ZHANG"
    assert 'id="page-prev"' in second and 'id="page-next"' not in second
    # accepted between two China days, both included
    days = await li.get("/console/cases?from=2026-11-02&to=2026-11-02")
    assert receipts(days) == [f"BM2611{n:02d}ZHANG" for n in range(39, 15, -1)]
    api = await (await li.session.get(li.server.make_url(
        "/api/clerk/cases?name=%E5%BC%A0%E4%B8%89&page=2&per_page=25"), headers=CLERK)).json()
    assert (api["page"], api["per_page"], api["pages"], api["total"]) == (2, 25, 3, 60)
    assert api["cases"][0]["receipt_no"] == "BM261134ZHANG"


@pytest.mark.parametrize(("query", "said"), [
    ("from=2026-13-01", "日期请写成 2026-12-03"), ("status=flying", "没有这个状态"),
    ("phone=12", "写完整号码或后4位"), ("name=%00", "空字符"), ("page=abc", "应为正整数"),
    ("from=2026-11-05&to=2026-11-01", "结束日期早于开始日期")])
async def test_what_cannot_be_searched_is_said(filed, clerks, query, said):
    li, _, _ = clerks
    assert said in await li.get(f"/console/cases?{query}", status=400)


async def test_a_days_bookings_by_name_or_phone_with_the_days_around(app_client, clerks):
    li, _, _ = clerks
    bookings = app_client.server.app[CONSOLE].bookings
    await bookings.ensure_calendar()
    day = datetime(2026, 11, 25).date()  # a Wednesday, two days after the test's Monday
    slot, other = await bookings.open_slots("civil", day, day, limit=2)
    for number, (slot_id, name, phone) in enumerate(((slot.id, "王秀英", "13800001234"),
                                                      (other.id, "刘德", "13600005678"))):
        await bookings.book(BookingRequest(slot_id, f"o_book_{number}", "dibao",
                                           f"key-{number}", name, phone))
    page = await li.get("/console/today?day=2026-11-25")
    assert "2026-11-25 11月25日（周三）的预约" in page and "王秀英" in page and "刘德" in page
    assert 'href="?day=2026-11-24"' in page and 'href="?day=2026-11-26"' in page
    assert 'id="day-today"' in page
    assert "刘德" not in await li.get("/console/today?day=2026-11-25&name=%E7%8E%8B")
    by_phone = await li.get("/console/today?day=2026-11-25&phone=5678")
    assert "刘德" in by_phone and "王秀英" not in by_phone
    assert 'href="?day=2026-11-26&amp;phone=5678"' in by_phone  # the filter goes along
    booking_no = re.search(r"<td>(YY\w+)</td>", page).group(1)
    async with li.session.post(li.server.make_url(f"/console/bookings/{booking_no}/mark"),
                               data={"csrf": li.csrf, "to": "arrived", "day": "2026-11-25"},
                               allow_redirects=False) as marked:
        assert marked.headers["Location"] == "/console/today?day=2026-11-25"  # back to it
    assert "这一天没有预约" in await li.get("/console/today")  # today, the Monday
    await li.get("/console/today?day=yesterday", status=400)


async def test_past_handoffs_of_my_window_by_words_status_and_day(app_client, clerks):
    li, _, _ = clerks
    handoffs = app_client.server.app[CONSOLE].handoffs
    civil = await handoffs.open("o_h1", "wechat", "asked", "dibao",
                                [{"dir": "in", "text": "我娘的低保卡丢了"}])
    social = await handoffs.open("o_h2", "wechat", "asked", "pension_certification",
                                 [{"dir": "in", "text": "养老金认证怎么弄"}])
    await handoffs.villager_says(civil.handoff_id, "还有残疾证的事")
    await handoffs.claim(civil.handoff_id, "li")
    await handoffs.close(civil.handoff_id, "li")
    page = await li.get("/console/handoffs")
    assert "<title>人工记录 · 工作台</title>" in page
    assert f'href="/console/handoffs/{civil.handoff_id}"' in page and "已结束（李四）" in page
    assert f'href="/console/handoffs/{social.handoff_id}"' not in page  # 社会保障窗口's
    for query in ("words=%E4%BD%8E%E4%BF%9D%E5%8D%A1", "words=%E6%AE%8B%E7%96%BE%E8%AF%81",
                  "status=closed", "matter=dibao", "from=2026-11-23&to=2026-11-23"):
        assert f"/console/handoffs/{civil.handoff_id}\"" in await li.get(
            f"/console/handoffs?{query}"), query
    for query in ("words=%E5%85%BB%E8%80%81", "status=waiting", "to=2026-11-22"):
        assert "没有符合条件的人工记录" in await li.get(f"/console/handoffs?{query}"), query
    for name in ("from", "to", "status", "matter", "words"):
        assert f'<label for="search-{name}">' in page


async def test_the_receipt_prints_for_the_cases_window_and_is_logged(filed, clerks, sessions):
    li, zhou, wang = clerks
    case_page = await li.get(f"/console/cases/{CIVIL}")
    assert f'href="/console/cases/{CIVIL}/receipt"' in case_page
    assert 'href="/console/catalogue/dibao/notice?variant=rural"' in case_page
    receipt = await li.get(f"/console/cases/{CIVIL}/receipt")
    assert "示例镇便民服务中心" in receipt and "受理回执" in receipt and CIVIL in receipt
    assert "最低生活保障(低保)（农村低保）" in receipt and "王秀英" in receipt
    assert "1101**********002X" in receipt and ID_NUMBER not in receipt
    assert "<td>户主居民身份证</td><td>已拍照</td>" in receipt
    assert "<td>一寸免冠照片</td><td>到窗口交</td>" in receipt
    assert "2026年11月20日" in receipt and "预计2026年12月31日前办结" in receipt
    assert "民政窗口（便民服务大厅2号窗口）" in receipt and "受理人（签字）" in receipt
    assert "受理专用章" in receipt and '<button id="print" type="button">打印</button>' in receipt
    assert "@page { size: A4" in receipt and "@media print" in receipt
    await zhou.get(f"/console/cases/{CIVIL}/receipt", status=403)
    async with sessions() as session:
        printed = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.receipt")))
    assert [(p.actor, p.target) for p in printed] == [("li", f"case:{CIVIL}")]
    assert f"打印受理回执</td><td>申请 {CIVIL}" in await wang.get("/console/audit")


async def test_the_one_time_notice_lists_everything_for_a_situation(clerks):
    li, _, _ = clerks
    assert 'href="/console/catalogue/dibao/notice"' in await li.get("/console/catalogue")
    every = await li.get("/console/catalogue/dibao/notice")
    assert "一次性告知单" in every and "最低生活保障(低保)" in every
    assert "情形「农村低保」另带" in every and "情形「城镇低保」另带" in every
    rural = await li.get("/console/catalogue/dibao/notice?variant=rural")
    assert "户主居民身份证 原件和复印件各1份" in rural and "户籍证明" not in rural
    assert "情形：<span id=\"notice-variant\">农村低保</span>" in rural
    for fact in ('id="notice-time-limit"', 'id="notice-fee"', 'id="notice-place"',
                 'id="notice-hours"', "办理条件", "告知人（签字）", 'id="print"'):
        assert fact in rural, fact
    assert "34个工作日" in rural  # the guide's time limit, as the villager is told it
    await li.get("/console/catalogue/dibao/notice?variant=moon", status=404)
    await li.get("/console/catalogue/no_such_matter/notice", status=404)
    unlisted = await li.get("/console/catalogue/golden_autumn_scholarship/notice")
    assert "材料清单，本中心还没有公布" in unlisted
