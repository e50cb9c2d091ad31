"""Issue #15, held by an outside review: a handoff shows only what the clerk's windows hold,
a handoff is passed only to someone who answers villagers (and a supervisor takes back one
left behind), two admins saving one matter lose nothing, a refused example's question comes
back, an edit that no longer fits the files keeps no worker from starting, and one
publication runs at a time. No NLU here (tests/test_teaching.py's console)."""

import asyncio
from datetime import timedelta

from bot.appointments.service import BookingRequest
from bot.cases.application import MaterialItem, NewCase
from bot.catalogue.editing import form_of
from bot.chinatime import CHINA
from bot.review.service import Order
from bot.web.console import PUBLISHING
from bot.web.console_base import CONSOLE
from tests import test_teaching
from tests.test_apply import ID_NUMBER
from tests.test_console import MONDAY_MORNING
from tests.test_teaching import signed_in

console, clock = test_teaching.console, test_teaching.clock  # fixtures


async def test_a_handoff_shows_only_what_the_clerks_windows_hold(console, sessions):
    services = console.server.app[CONSOLE]
    await services.accounts.add("zhou", "周五", "clerk", "social", "password-zhou")
    case = await services.cases.submit(NewCase(
        "senior_allowance", "wechat", "o_both", "王秀英", ID_NUMBER, "13800001234", "石桥村",
        [MaterialItem("身份证", "at_window")]))  # the civil window's
    opened = await services.handoffs.open("o_both", "wechat", "asked",
                                          "medical_insurance_enrollment", [])  # social's
    zhou, li = await signed_in(console, "zhou"), await signed_in(console, "li")
    try:
        page = await zhou.get(f"/console/handoffs/{opened.handoff_id}")
        await services.handoffs.transfer(opened.handoff_id, "zhou", "civil", None, "民政的事")
        civil = await li.get(f"/console/handoffs/{opened.handoff_id}")
    finally:
        await zhou.close()
        await li.close()
    assert case.receipt_no not in page and "王秀英" not in page and "石桥村" not in page
    assert case.receipt_no in civil and "王秀英" in civil and "石桥村" in civil


async def test_a_handoff_goes_only_to_someone_who_answers_and_a_supervisor_takes_it_back(
        console, sessions, clock):
    services = console.server.app[CONSOLE]
    await services.accounts.add("boss", "张主管", "supervisor", None, "password-boss")
    opened = await services.handoffs.open("o_stuck", "wechat", "asked", "dibao", [])
    li, boss = await signed_in(console, "li"), await signed_in(console, "boss")
    try:
        await li.post(f"/console/handoffs/{opened.handoff_id}/claim")
        page = await li.get(f"/console/handoffs/{opened.handoff_id}")
        assert "王主任" not in page.split('id="transfer-clerk"')[1].split("</select>")[0]
        refused = await li.post(f"/console/handoffs/{opened.handoff_id}/transfer", status=400,
                                window="civil", clerk="wang", note="请主任看看")
        assert "不接待村民" in refused
        # li went home with it: the supervisor passes it to the general desk, anew
        clock.now = MONDAY_MORNING + timedelta(hours=3)
        await boss.post(f"/console/handoffs/{opened.handoff_id}/transfer", window="general",
                        note="李四下班了")
    finally:
        await li.close()
        await boss.close()
    handoff = await services.handoffs.get(opened.handoff_id)
    assert (handoff.status, handoff.claimed_by, handoff.window) == ("waiting", None, "general")
    assert handoff.due_at > clock.now and handoff.escalated_at is None  # a new promise


async def test_two_admins_saving_one_matter_at_once_keep_one_and_are_told(console, sessions):
    editor = console.server.app[CONSOLE].editor
    fields, base = await editor.current("dibao")
    form = form_of(fields)
    results = await asyncio.gather(
        editor.save("dibao", {**form, "fee": "工本费5元", "fee_source": "待核实"}, "a1", base),
        editor.save("dibao", {**form, "time_working_days": "20"}, "a2", base),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and "刚才有人改过" in str(refused[0])
    assert len(await editor.revisions.history("dibao")) == 1


async def test_an_edit_that_no_longer_fits_the_files_is_left_out_not_fatal(console, sessions):
    editor = console.server.app[CONSOLE].editor
    fields, base = await editor.current("dibao")
    clash = {**fields, "aliases": [*fields["aliases"], "上户口"]}  # another matter's word
    await editor.revisions.add("dibao", clash, "a1", base)  # as if the files changed since
    fee = {**(await editor.current("wubao"))[0], "fee": "不收费"}
    await editor.revisions.add("wubao", fee, "a1", 0)
    catalogue = await editor.catalogue()
    assert "上户口" not in catalogue.get("dibao").aliases  # the file's dibao
    assert catalogue.get("wubao") is not None and len(catalogue) >= 30


async def test_a_refused_example_puts_its_question_back(console, sessions):
    review = console.server.app[CONSOLE].review
    await review.note("赶场天开门不嘛", "not_understood", MONDAY_MORNING)
    [question], _ = await review.questions(Order.MOST, 1)
    example = await review.propose(question.id, "ask_fee", None, "li", {"dibao"})
    assert not (await review.questions(Order.MOST, 1))[0]  # taught: off the list
    await review.decide(example.id, False, "admin1")  # a wrong label, refused
    [again], _ = await review.questions(Order.MOST, 1)
    assert again.text == "赶场天开门不嘛"


async def test_one_publication_at_a_time(console, sessions):
    services = console.server.app[CONSOLE]
    release = asyncio.Event()

    async def slow_publish() -> str:
        await release.wait()
        return "检查通过"

    services.publish = slow_publish
    admin = await signed_in(console, "admin1")
    try:
        await admin.post("/console/catalogue/publish")
        assert "正在发布更新" in await admin.post("/console/catalogue/publish", status=409)
        release.set()
        await asyncio.gather(*console.server.app[PUBLISHING])  # the publication ends
        assert "检查通过" in await admin.get("/console/catalogue")
        await admin.post("/console/catalogue/publish")  # done: it may run again
        await asyncio.gather(*console.server.app[PUBLISHING])
    finally:
        await admin.close()


async def test_past_handoffs_are_found_by_the_villagers_words_and_by_who_they_are(
        console, sessions):
    services = console.server.app[CONSOLE]
    case = await services.cases.submit(NewCase(
        "senior_allowance", "wechat", "o_found", "王秀英", ID_NUMBER, "13800001234", "石桥村",
        [MaterialItem("身份证", "at_window")]))
    found = await services.handoffs.open("o_found", "wechat", "asked", None, [
        {"dir": "in", "text": "我娘的低保卡丢了"}, {"dir": "out", "text": "请问办什么事"}])
    await services.handoffs.villager_says(found.handoff_id, "补办要多久")
    other = await services.handoffs.open("o_other", "wechat", "asked", None,
                                         [{"dir": "in", "text": "你好"}])
    li = await signed_in(console, "li")
    link = f'href="/console/handoffs/{found.handoff_id}"'
    try:
        for query, hit in (("words=低保卡", True), ("words=补办要多久", True),
                           ("words=请问办什么事", False),  # the bot said it, not the villager
                           ("words=dir", False),  # no JSON key matches
                           ("villager=1234", True), ("villager=王秀", True),
                           (f"villager={case.receipt_no}", True), ("villager=5678", False)):
            page = await li.get(f"/console/handoffs?{query}")
            assert (link in page) is hit, query
            assert f'href="/console/handoffs/{other.handoff_id}"' not in page, query
    finally:
        await li.close()


async def test_bookings_are_found_by_number_name_phone_matter_and_days(console, sessions):
    services = console.server.app[CONSOLE]
    bookings = services.bookings
    monday = MONDAY_MORNING.date()
    civil = await bookings.open_slots("civil", monday, monday + timedelta(days=7))
    social = await bookings.open_slots("social", monday, monday + timedelta(days=7))
    ours = await bookings.book(BookingRequest(civil[0].id, "o_b1", "dibao", "k1", name="王秀英",
                                              phone="13800001234"))
    later = await bookings.book(BookingRequest(civil[-1].id, "o_b2", "senior_allowance", "k2",
                                               name="李红", phone="13900005678"))
    theirs = await bookings.book(BookingRequest(
        social[0].id, "o_b3", "medical_insurance_enrollment", "k3", name="王秀兰",
        phone="13700001234"))
    li = await signed_in(console, "li")
    try:
        for query, found in (("phone=1234", {ours}), ("name=王秀", {ours}),
                             (f"number={later.booking_no}", {later}),
                             ("matter=senior_allowance", {later}),
                             (f"from={civil[-1].starts_at.astimezone(CHINA).date()}", {later}),
                             ("", {ours, later}), ("status=arrived", set())):
            page = await li.get(f"/console/bookings?{query}")
            listed = {b for b in (ours, later, theirs) if b.booking_no in page}
            assert listed == found, query
        assert "预约日期从" in page and "已预约" in await li.get("/console/bookings")
        await li.get("/console/bookings?status=xyz", status=400)
    finally:
        await li.close()
