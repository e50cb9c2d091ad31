"""Channel stage (staff): clerks acting for villagers — a booking for someone who phoned or
walked in, a handoff passed to another window or colleague, and each window's saved replies.

    /console/bookings/new          代预约: matter and day → the free times → name and phone
    /console/handoffs/{id}/transfer  转交, with a note the villager never sees
    /console/replies               常用回复 of my windows: add, remove

The rules (free places, one booking per matter, who has a handoff) are the services'; this
reads forms and shows their refusals on the form, with what was typed kept.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from bot.appointments.bookings import BookingError, slot_label
from bot.appointments.service import BookingRequest
from bot.cases.identity import normalize
from bot.chinatime import typed_day
from bot.console.accounts import Who
from bot.handoff.replies import SavedReplyError
from bot.handoff.service import HandoffError
from bot.web.bodies import row_id
from bot.web.console_base import (
    CONSOLE,
    handoff_for,
    page,
    refusal,
    render,
)
from bot.web.console_work import matter_choices
from bot.web.windows import require

# How the villager reached the center, for a booking a clerk makes: notices go by SMS
DESK_CHANNELS = {"window": "窗口代约", "phone": "电话代约"}
FORM_NONCE = re.compile(r"[A-Za-z0-9_-]{16,40}")
MOBILE = re.compile(r"1[3-9]\d{9}")
NAME_MAX = 30  # characters; the columns take 64
NOTE_MAX = 500


async def _booking_form(request: web.Request, who: Who, status: int = 200,
                        error: str = "", booked: str = "") -> web.Response:
    services = request.app[CONSOLE]
    typed = {**request.query, **{k: str(v) for k, v in (await request.post()).items()}}
    matter = services.catalogue.get(typed.get("matter", ""))
    try:
        day = typed_day(typed["day"]) if typed.get("day") else services.bookings.today()
    except ValueError:
        day, error = services.bookings.today(), error or "日期格式应为 2026-12-03"
    slots: list[dict[str, Any]] = []
    if matter is not None:
        window = services.window_of(matter.id)
        require(who, window, "事项")
        slots = [{"id": s.id, "label": slot_label(s), "free": s.capacity - s.booked}
                 for s in await services.bookings.open_slots(window, day, day)]
    # one form, one booking: a double click or a resend after an error books once
    nonce = typed.get("nonce", "") if FORM_NONCE.fullmatch(typed.get("nonce", "")) \
        else secrets.token_urlsafe(16)
    return render("booking_new.html", who, status, matters=matter_choices(services, who),
                  matter=matter.id if matter else "", day=day, slots=slots, typed=typed,
                  channels=DESK_CHANNELS, error=error, booked=booked, nonce=nonce)


@page("clerk", "supervisor", "admin")
async def booking_form(request: web.Request, who: Who) -> web.Response:
    """The form; after a booking (?booked=YY…) it says what was booked, for the next one."""
    booking = await request.app[CONSOLE].bookings.get(request.query.get("booked", ""))
    said = f"已预约 {booking.booking_no}：{slot_label(booking.slot)}，{booking.name}。" \
        "确认短信会发到所留手机。" if booking and who.sees(booking.slot.window) else ""
    return await _booking_form(request, who, booked=said)


@page("clerk", "supervisor", "admin")
async def book_for_villager(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    form = {k: str(v).strip() for k, v in (await request.post()).items()}
    matter = services.catalogue.get(form.get("matter", ""))
    slot_id = row_id(form.get("slot", ""))
    phone, name = normalize(form.get("phone", "")), form.get("name", "")
    person = form.get("person", "")
    problem = ("请选事项" if matter is None else "请选一个时段" if slot_id is None
               else "请填姓名" if not name else "姓名太长了" if len(name) > NAME_MAX
               else "为谁办：名字太长了" if len(person) > NAME_MAX
               else "请填手机号：确认和提醒用短信发" if not MOBILE.fullmatch(phone)
               else None)
    if problem or matter is None or slot_id is None:
        return await _booking_form(request, who, 400, problem or "")
    window = services.window_of(matter.id)
    require(who, window, "事项")
    slot = await services.bookings.slot(slot_id)
    if slot is None or slot.window != window:  # a slot id typed into the form
        return await _booking_form(request, who, 409, "这个时段不是办这件事的窗口的，请重新选时间")
    channel = form.get("channel") if form.get("channel") in DESK_CHANNELS else "window"
    nonce = form.get("nonce", "")
    if not FORM_NONCE.fullmatch(nonce):
        return await _booking_form(request, who, 400, "页面已过期，请刷新后再试")
    try:
        booking = await services.bookings.book(BookingRequest(
            slot_id, f"phone:{phone}", matter.id, f"desk:{nonce}",
            name=name, phone=phone, channel=str(channel), person_name=person or None,
            by_clerk=True))
    except BookingError as refused:
        return await _booking_form(request, who, 409, str(refused))
    await services.accounts.audit(who.username, "booking.desk", f"booking:{booking.booking_no}",
                                  None, {"channel": DESK_CHANNELS[str(channel)]})
    raise web.HTTPFound(f"/console/bookings/new?booked={booking.booking_no}")


@page("clerk", "supervisor", "admin")
async def transfer(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    handoff = await handoff_for(request, who)
    form = await request.post()
    window, to_clerk = str(form.get("window", "")), str(form.get("clerk", "")) or None
    note = str(form.get("note", "")).strip()
    if services.bookings.rules.window(window) is None:
        return render("error.html", who, 400, message="请选要转给哪个窗口")
    if not note:
        return render("error.html", who, 400, message="请写一句转交说明（村民看不到）")
    if len(note) > NOTE_MAX:
        return render("error.html", who, 400,
                      message=f"转交说明最多{NOTE_MAX}个字，请写短一点（原文没有保存）")
    colleague = next(((login, name, seen) for login, name, seen in
                      await services.accounts.answering() if login == to_clerk), None)
    if to_clerk is not None and (colleague is None or colleague[2] not in (None, window)):
        return render("error.html", who, 400, message="这位同事不在所选窗口、已停用或不接待村民")
    before = {"window": services.window_name(handoff.window), "status": handoff.status}
    try:
        await services.handoffs.transfer(handoff.id, who.username, window, to_clerk, note,
                                         overrule=who.role in ("supervisor", "admin"))
    except HandoffError as refused:
        return render("error.html", who, 409, message=await refusal(services, refused))
    await services.accounts.audit(who.username, "handoff.transfer", f"handoff:{handoff.id}",
                                  before, {"window": services.window_name(window),
                                           "clerk": colleague[1] if colleague else "—"})
    # passed out of the clerk's own windows, the handoff is no longer theirs to open
    raise web.HTTPFound(f"/console/handoffs/{handoff.id}" if who.sees(window) else "/console")


@page("clerk", "supervisor", "admin")
async def replies_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    windows = [w for w in services.bookings.rules.windows if who.sees(w.id)]
    replies = await services.replies.of([w.id for w in windows])
    return render("replies.html", who, replies=replies,
                  windows=[(w.id, w.name) for w in windows])


@page("clerk", "supervisor", "admin")
async def add_reply(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    form = await request.post()
    window = str(form.get("window", ""))
    require(who, window, "常用回复")
    if services.bookings.rules.window(window) is None:
        return render("error.html", who, 400, message="请选窗口")
    try:
        saved = await services.replies.add(window, str(form.get("title", "")),
                                           str(form.get("text", "")), who.username)
    except SavedReplyError as refused:
        return render("error.html", who, 400, message=str(refused))
    await services.accounts.audit(who.username, "reply.add", f"reply:{saved.id}", None,
                                  {"window": services.window_name(window)})
    raise web.HTTPFound("/console/replies")


@page("clerk", "supervisor", "admin")
async def remove_reply(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    reply_id = row_id(request.match_info["reply_id"])
    saved = await services.replies.get(reply_id) if reply_id else None
    if saved is None:
        raise web.HTTPNotFound(text="没有这条常用回复")
    require(who, saved.window, "常用回复")
    await services.replies.remove(saved.id)
    await services.accounts.audit(who.username, "reply.remove", f"reply:{saved.id}",
                                  {"window": services.window_name(saved.window)}, None)
    raise web.HTTPFound("/console/replies")


def setup_desk_routes(app: web.Application) -> None:
    add = app.router
    add.add_get("/console/bookings/new", booking_form)
    add.add_post("/console/bookings/new", book_for_villager)
    add.add_post("/console/handoffs/{handoff_id}/transfer", transfer)
    add.add_get("/console/replies", replies_page)
    add.add_post("/console/replies", add_reply)
    add.add_post("/console/replies/{reply_id}/delete", remove_reply)
