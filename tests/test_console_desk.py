"""Issue #15: clerks act for villagers — a booking for someone who walked in or phoned, a
handoff passed to another window or colleague with a note, and each window's saved replies."""

import re

from sqlalchemy import select

from bot.storage.tables import (
    AuditEntry,
    Booking,
    DomainEvent,
    Handoff,
    HandoffMessage,
    Notice,
)
from tests import test_console
from tests.test_apply import Phone
from tests.test_console import Clerk, until

app_client, clock = test_console.app_client, test_console.clock  # the console's fixtures


async def test_a_clerk_books_a_slot_for_a_villager_who_walked_in(app_client, sessions):
    li = Clerk(app_client)
    try:
        await li.login("li", "password-li")
        form = await li.get("/console/bookings/new?matter=dibao&day=2026-11-24")
        slots = re.findall(r'name="slot" value="(\d+)"> ([^<]+)（还能约', form)
        nonce = re.search(r'name="nonce" value="([^"]+)"', form).group(1)
        assert slots and "11月24日" in slots[0][1]
        typed = {"matter": "dibao", "day": "2026-11-24", "slot": slots[0][0], "name": "王秀英",
                 "phone": "13800001234", "channel": "phone", "nonce": nonce}
        # a wrong phone: said on the form, nothing typed lost
        wrong = await li.post("/console/bookings/new", status=400,
                              **{**typed, "phone": "1380000"})
        assert "请填手机号" in wrong and 'value="王秀英"' in wrong and "checked" in wrong
        await li.post("/console/bookings/new", **typed)
        async with sessions() as session:
            booking = await session.scalar(select(Booking))
        assert (booking.name, booking.phone, booking.channel) == ("王秀英", "13800001234",
                                                                  "phone")
        done = await li.get(f"/console/bookings/new?booked={booking.booking_no}")
        assert f"已预约 {booking.booking_no}：{slots[0][1]}，王秀英" in done
        # the same form sent twice is one booking; a new form for the same matter is refused
        # in words for the clerk
        await li.post("/console/bookings/new", **typed)
        next_form = re.search(r'name="nonce" value="([^"]+)"', await li.get(
            "/console/bookings/new?matter=dibao&day=2026-11-24")).group(1)
        again = await li.post("/console/bookings/new", status=409,
                              **{**typed, "slot": slots[1][0], "nonce": next_form})
        assert f"这位村民已经约了{slots[0][1]}，预约号{booking.booking_no}" in again
        assert "改预约" not in again  # what a villager would send, not a clerk
        await li.post(f"/console/bookings/{booking.booking_no}/mark", to="arrived")
        twice = await li.post(f"/console/bookings/{booking.booking_no}/mark", status=409,
                              to="arrived")
        assert "这个预约已是「已到场」，不能再记为「已到场」" in twice
        # the confirmation goes to the phone by SMS: the villager has no WeChat here
        notice = await until(lambda: _notice(sessions))
        assert notice.phone == "13800001234" and notice.openid is None
        [zhou] = await signed_in(app_client, "zhou")
        await zhou.get("/console/bookings/new?matter=dibao&day=2026-11-24", status=403)
        # another window's booking number tells them nothing
        assert "王秀英" not in await zhou.get(f"/console/bookings/new?booked={booking.booking_no}")
        await zhou.close()
    finally:
        await li.close()


async def asks_for_a_person(app_client, sessions, openid):
    """A villager asks about 低保 (the civil window's), then for a person: the handoff."""
    villager = Phone(app_client, openid)
    await villager.says("我想问低保的事")
    await villager.says("转人工")
    async with sessions() as session:
        return await session.scalar(select(Handoff))


async def signed_in(app_client, *logins):
    clerks = [Clerk(app_client) for _ in logins]
    for clerk, login in zip(clerks, logins, strict=True):
        await clerk.login(login, f"password-{login}")
    return clerks


async def _notice(sessions):
    async with sessions() as session:
        return await session.scalar(select(Notice))


async def test_a_handoff_is_passed_to_another_window_with_a_note(app_client, sessions):
    handoff = await asks_for_a_person(app_client, sessions, "o_transfer")
    li, zhou = await signed_in(app_client, "li", "zhou")
    try:
        await zhou.get(f"/console/handoffs/{handoff.id}", status=403)
        await li.post(f"/console/handoffs/{handoff.id}/claim")
        page = await li.get(f"/console/handoffs/{handoff.id}")
        assert 'id="transfer-window"' in page
        # a colleague of another window cannot be handed what goes to this one
        refused = await li.post(f"/console/handoffs/{handoff.id}/transfer", status=400,
                                window="civil", clerk="zhou", note="请帮忙")
        assert "不在所选窗口" in refused
        await li.post(f"/console/handoffs/{handoff.id}/transfer", window="social",
                      note="是医保的问题，请社保窗口回复")
        await li.get(f"/console/handoffs/{handoff.id}", status=403)  # no longer li's window
        assert f"/console/handoffs/{handoff.id}" in await zhou.get("/console")
        shown = await zhou.get(f"/console/handoffs/{handoff.id}")
        assert "【转交说明，村民看不到】李四" in shown and "是医保的问题" in shown
        assert "等待接手" in shown
        await zhou.post(f"/console/handoffs/{handoff.id}/claim")
    finally:
        await li.close()
        await zhou.close()
    async with sessions() as session:
        note = await session.scalar(select(HandoffMessage).where(HandoffMessage.kind == "note"))
        audit = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "handoff.transfer"))
    assert note.author == "li"
    assert audit.after == {"window": "社会保障窗口", "clerk": "—"}  # in words, not codes
    async with sessions() as session:  # the note is not a reply: nothing goes to the villager
        assert not list(await session.scalars(select(DomainEvent).where(
            DomainEvent.kind == "handoff.reply")))


async def test_saved_replies_of_a_window_fill_the_reply(app_client, sessions):
    handoff = await asks_for_a_person(app_client, sessions, "o_saved")
    li, zhou = await signed_in(app_client, "li", "zhou")
    try:
        await li.post("/console/replies", window="civil", title="低保卡补办",
                      text="低保卡丢了，带户口本和身份证到民政窗口补办，当天办好。")
        await zhou.post("/console/replies", window="social", title="医保报销",
                        text="带发票和病历到社保窗口。")
        await li.post("/console/replies", status=403, window="social", title="x", text="y")
        assert "标题和内容都要填" in await li.post("/console/replies", status=400,
                                                   window="civil", title="", text="y")
        listed = await li.get("/console/replies")
        assert "低保卡补办" in listed and "医保报销" not in listed
        await li.post(f"/console/handoffs/{handoff.id}/claim")
        page = await li.get(f"/console/handoffs/{handoff.id}")
        assert '<option value="低保卡丢了，带户口本和身份证到民政窗口补办，当天办好。">低保卡补办' \
            in page and "医保报销" not in page
        reply_id = re.search(r'/console/replies/(\d+)/delete', listed).group(1)
        await zhou.post(f"/console/replies/{reply_id}/delete", status=403)
        await li.post(f"/console/replies/{reply_id}/delete")
        assert "低保卡补办" not in await li.get("/console/replies")
    finally:
        await li.close()
        await zhou.close()
