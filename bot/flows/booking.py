"""Dialogue stage: the booking flows — a time at the window, and changing or cancelling it.

    book_appointment(matter, first message) ─→ DAY (「明天」「周六」「下周一下午」「赶集那天」
        「随便」) ─→ SLOT (the nearest free slots, numbered; another day word asks again)
        ─→ CONTACT (name and phone, one message) ─→ CONFIRM ─→ 1 book ─→ END: booking number,
        place and the complete materials list            2 another time ─→ DAY
    cancel_appointment ─→ [PICK: which, when several] ─→ MANAGE ─→ 1 cancel ─→ CONFIRM_CANCEL
                                                                  (1 yes ─→ END, 2 keep ─→ END)
                                                                  2 another time ─→ DAY (moves it)
                                                                  3 keep it ─→ END

Days are understood by bot/appointments/when.py; what is open, and whether the place is
still free when the villager says 「1」, is the booking service's. A slot taken in the
meantime gets 「这个时段刚约满了，换一个？」 and fresh choices for the same day.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bot import chinatime
from bot.appointments.bookings import SLOT_TAKEN, BookingError, BookingStatus, SlotTaken, slot_label
from bot.appointments.home_visits import HomeVisitService, VisitStatus, visit_half
from bot.appointments.service import BookingRequest, BookingService
from bot.appointments.when import Refused, When, understand_when
from bot.cases.identity import mask_phone, normalize, phone_problem
from bot.catalogue.model import Matter
from bot.flows import END, FlowContext, Step, StepFn
from bot.flows import booking_texts as texts
from bot.flows.choice import choice_number, describes_option, pick_option
from bot.flows.facts import facts_in, for_whom_words, looks_like_name, name_after_relation
from bot.messages import Kind

FLOW_NAME = "book"


class BookingState(StrEnum):
    DAY = "day"
    SLOT = "slot"
    CONTACT = "contact"
    CONFIRM = "confirm"
    PICK = "pick"
    MANAGE = "manage"
    CONFIRM_CANCEL = "confirm_cancel"


@dataclass(frozen=True, slots=True)
class Appointments:
    """The services the booking and home-visit flows use."""

    bookings: BookingService
    visits: HomeVisitService
    phone: str  # the center's, for when nothing can be booked
    # the center has not confirmed its evening, Saturday and market-day hours (center.yml)
    hours_to_confirm: bool = False


_CONTACT_NAME = re.compile(r"[\u4e00-\u9fff·]{2,10}")
_CONTACT_PHONE = re.compile(r"[0-9-]{7,14}")


def what_to_bring(matter: Matter, variant_id: str | None) -> str:
    """The complete list (一次性告知); for a matter with situations, each one's extras."""
    lines = [f"{n}. {m.describe()}" for n, m in enumerate(matter.materials_for(variant_id), 1)]
    text = f"\n请带齐【{matter.short_name}】的材料：\n" + "\n".join(lines)
    if matter.variants and variant_id is None:
        common = {m.name for m in matter.materials_for(None)}
        for variant in matter.variants:
            extra = [m.name for m in matter.materials_for(variant.id) if m.name not in common]
            if extra:
                text += f"\n如果是{variant.name}：另带{'、'.join(extra)}"
    return text


def _desk(ctx: FlowContext) -> Appointments:
    desk: Appointments = ctx.services
    return desk


def _matter(ctx: FlowContext) -> Matter:
    matter = ctx.catalogue.get(ctx.slots["matter"])
    assert matter is not None
    return matter


async def start(desk: Appointments, matter: Matter, text: str, variant: str | None,
                user_id: str) -> Step:
    """Book `matter`; a day already named in the first message is used right away."""
    window = desk.bookings.rules.window_for(matter.id)
    if window is None:
        return Step((texts.NOT_HERE.format(name=matter.short_name, place=matter.place),), END)
    booked = next((b for b in await desk.bookings.bookings_of(user_id)
                   if b.matter_id == matter.id), None)
    if booked is not None:  # said now, not after the villager has chosen a time
        return Step((texts.ALREADY_BOOKED.format(slot=slot_label(booked.slot),
                                           number=booked.booking_no),), END)
    # 「我叫张明，电话138…」 in the first message: not asked again (a name only if called one)
    name, phone = _contact(text, bare_name=False)
    found = facts_in(text)  # 「帮我妈王秀英约」: whom it is for, apart from who comes
    slots = {"matter": matter.id, "variant": variant, "window": window.id,
             "draft": secrets.token_hex(8), "name": name, "phone": phone,
             "relation": found.relation, "person_name": name_after_relation(text)}
    when = understand_when(text, desk.bookings.today(), desk.bookings.rules.horizon_days)
    if isinstance(when, When):
        step = await _offer(desk, slots, when)
        first, *rest = step.replies
        return Step((f"预约办【{matter.short_name}】。{first}", *rest), step.next_state,
                    {**slots, **step.slots})
    return Step((f"预约到{window.name}办【{matter.short_name}】。{texts.ASK_DAY}",),
                BookingState.DAY, slots)


async def _offer(desk: Appointments, slots: dict[str, Any] | Any, when: When,
                 before: tuple[str, ...] = ()) -> Step:
    window = desk.bookings.rules.window(slots["window"])
    assert window is not None
    offer = await desk.bookings.offer(window, when)
    if not offer.slots:
        full = texts.NOTHING_FREE.format(days=desk.bookings.rules.horizon_days, phone=desk.phone)
        return Step((*before, offer.note, full) if offer.note else (*before, full),
                    BookingState.DAY)
    options = "\n".join(f"{n}. {slot_label(s)}" for n, s in enumerate(offer.slots, 1))
    reply = texts.CHOOSE_SLOT.format(options=options)
    if offer.nearest:  # 「12月20日（周日）民政窗口不办公，下面是最近能约的时间。」
        reply = f"{offer.note}，下面是最近能约的时间。\n{reply}"
    elif offer.note:  # 「20点不在办公时间，这些时间可以约……」: the same day, other hours
        reply = f"{offer.note}，{reply}"
    return Step((*before, reply), BookingState.SLOT,
                {"choices": [[s.id, slot_label(s)] for s in offer.slots],
                 "when": [when.first.isoformat(), when.last.isoformat(), when.part, when.hour,
                          when.market]})


def _when_from(slots: Any) -> When:
    first, last, part, hour, market = slots["when"]
    return When(date.fromisoformat(first), date.fromisoformat(last), part, hour, market)


async def choose_day(ctx: FlowContext) -> Step:
    desk = _desk(ctx)
    when = understand_when(ctx.message.text, desk.bookings.today(),
                           desk.bookings.rules.horizon_days)
    if when is None:
        return Step((texts.DAY_NOT_UNDERSTOOD + texts.ASK_DAY,), BookingState.DAY)
    if isinstance(when, Refused):
        return Step((when.reason,), BookingState.DAY)
    return await _offer(desk, ctx.slots, when)


async def choose_slot(ctx: FlowContext) -> Step:
    choices = ctx.slots["choices"]
    number = pick_option(ctx.message.text, [label for _, label in choices])
    if number is None:
        return await choose_day(ctx)  # 「那下周二呢」: another day
    if not 1 <= number <= len(choices):
        return Step((f"请回复 1 到 {len(choices)} 的数字。",), BookingState.SLOT)
    slot_id, label = choices[number - 1]
    chosen = {"slot_id": slot_id, "slot_label": label}
    if ctx.slots.get("name") and ctx.slots.get("phone"):  # moving a booking: known already
        return Step((_summary(ctx, {**ctx.slots, **chosen}),), BookingState.CONFIRM, chosen)
    return Step((texts.ASK_CONTACT,), BookingState.CONTACT, chosen)


def _contact(text: str, *, bare_name: bool = True) -> tuple[str | None, str | None]:
    """The name and phone a message gives: 「张明 138…」, 「我叫张明，电话138…」; a bare
    「张明」 only where a name was asked for."""
    cleaned = unicodedata.normalize("NFKC", text)
    found = facts_in(cleaned)
    bare = (run for run in _CONTACT_NAME.findall(cleaned) if looks_like_name(run))
    name = found.speaker or found.name or (next(bare, None) if bare_name else None)
    phone = _CONTACT_PHONE.search(cleaned.replace(" ", ""))
    number = normalize(phone.group()) if phone else None
    return name, number if number and phone_problem(number) is None else None


async def give_contact(ctx: FlowContext) -> Step:
    name, phone = _contact(ctx.message.text)
    name, phone = name or ctx.slots.get("name"), phone or ctx.slots.get("phone")
    missing = [what for what, value in (("姓名", name), ("手机号", phone)) if not value]
    if missing:
        problem = phone_problem(ctx.message.text) if "手机号" in missing and any(
            c.isdigit() for c in ctx.message.text) else None
        said = problem or texts.CONTACT_MISSING.format(what="和".join(missing))
        return Step((said, texts.ASK_CONTACT), BookingState.CONTACT, {"name": name, "phone": phone})
    slots = {**ctx.slots, "name": name, "phone": phone}
    return Step((_summary(ctx, slots),), BookingState.CONFIRM, {"name": name, "phone": phone})


def _summary(ctx: FlowContext, slots: Any) -> str:
    window = _desk(ctx).bookings.rules.window(slots["window"])
    assert window is not None
    for_whom = for_whom_words(slots.get("relation"), slots.get("person_name"))
    return texts.CONFIRM.format(matter=_matter(ctx).name, slot=slots["slot_label"],
                          for_whom=f"\n为谁办：{for_whom}" if for_whom else "",
                          place=f"{window.place}（{window.name}）", name=slots["name"],
                          phone=mask_phone(slots["phone"]))


async def confirm(ctx: FlowContext) -> Step:
    choice = choice_number(ctx.message.text)
    desk, slots = _desk(ctx), ctx.slots
    if choice == 2:
        return Step((texts.ASK_DAY,), BookingState.DAY)
    if choice != 1:
        return Step((texts.REPLY_1_OR_2,), BookingState.CONFIRM)
    matter = _matter(ctx)
    try:
        booking = await desk.bookings.book(BookingRequest(
            slot_id=int(slots["slot_id"]), user_id=ctx.message.user_id, matter_id=matter.id,
            key=f"{slots['draft']}:{slots['slot_id']}", name=slots["name"],
            phone=slots["phone"], replaces=slots.get("replaces"),
            channel=ctx.message.channel.value, person_name=slots.get("person_name"),
            relation=slots.get("relation")))
    except SlotTaken:
        return await _offer(desk, slots, _when_from(slots), before=(SLOT_TAKEN,))
    except BookingError as refused:
        return Step((str(refused),), END)
    window = desk.bookings.rules.window(slots["window"])
    assert window is not None
    moved = texts.MOVED.format(old=slots["replaces"]) if slots.get("replaces") else ""
    unconfirmed = texts.HOURS_TO_CONFIRM.format(phone=desk.phone) \
        if desk.hours_to_confirm and booking.slot.kind != "regular" else ""
    return Step((moved + texts.BOOKED.format(
        number=booking.booking_no, slot=slot_label(booking.slot), place=window.place,
        window=window.name, bring=what_to_bring(matter, slots.get("variant"))) + unconfirmed,),
        END)


# --- changing and cancelling ---------------------------------------------------------


async def listing(desk: Appointments, user_id: str, catalogue: Any) -> list[list[str]]:
    """[number, one line] for each booking and home visit still to come."""
    items = []
    for booking in await desk.bookings.bookings_of(user_id):
        matter = catalogue.get(booking.matter_id)
        what = matter.short_name if matter else booking.matter_id
        items.append([booking.booking_no, f"{slot_label(booking.slot)} 办{what}"])
    for visit in await desk.visits.visits_of(user_id):
        half, agent = visit_half(visit), desk.visits.rules.agent(visit.agent_id)
        when = f"{half.label}，{agent.name}上门" if half and agent else "等待安排时间"
        items.append([visit.visit_no, f"上门服务（{visit.person_name}）：{when}"])
    return items


def numbered(items: list[list[str]]) -> str:
    return "\n".join(f"{n}. {line}（{number}）" for n, (number, line) in enumerate(items, 1))


async def start_manage(desk: Appointments, user_id: str, catalogue: Any) -> Step:
    items = await listing(desk, user_id, catalogue)
    if not items:
        return Step((texts.NONE_BOOKED,), END)
    if len(items) == 1:
        return Step((_manage_prompt(items[0]),), BookingState.MANAGE,
                    {"items": items, "number": items[0][0]})
    return Step((texts.WHICH_ONE.format(options=numbered(items)),), BookingState.PICK,
                {"items": items})


def _manage_prompt(item: list[str]) -> str:
    number, line = item
    template = texts.MANAGE_VISIT if number.startswith("SM") else texts.MANAGE_BOOKING
    return template.format(item=f"{line}（{number}）")


async def pick(ctx: FlowContext) -> Step:
    number, items = choice_number(ctx.message.text), ctx.slots["items"]
    if number is None or not 1 <= number <= len(items):
        return Step((f"请回复 1 到 {len(items)} 的数字。",), BookingState.PICK)
    item = items[number - 1]
    return Step((_manage_prompt(item),), BookingState.MANAGE,
                {"number": item[0]})


async def manage(ctx: FlowContext) -> Step:
    choice, number, desk = choice_number(ctx.message.text), str(ctx.slots["number"]), _desk(ctx)
    visit = number.startswith("SM")
    if choice == 3:
        return Step((texts.KEPT,), END)
    if choice == 1:  # nothing is cancelled on one digit: asked once more
        return Step((texts.SURE_TO_CANCEL.format(number=number),), BookingState.CONFIRM_CANCEL)
    if choice == 2 and not visit:
        return await _reschedule(desk, ctx, number)
    return Step(("请回复 1 或 3。" if visit else "请回复 1、2 或 3。",), BookingState.MANAGE)


async def confirm_cancel(ctx: FlowContext) -> Step:
    choice, number, desk = choice_number(ctx.message.text), str(ctx.slots["number"]), _desk(ctx)
    if choice == 2:
        return Step((texts.KEPT,), END)
    if choice != 1:
        return Step(("请回复 1 或 2。",), BookingState.CONFIRM_CANCEL)
    try:
        if number.startswith("SM"):
            await desk.visits.close(number, VisitStatus.CANCELLED, "villager",
                                   ctx.message.user_id)
            return Step((texts.VISIT_CANCELLED.format(number=number),), END)
        booking = await desk.bookings.cancel(number, ctx.message.user_id)
    except BookingError as refused:
        return Step((str(refused),), END)
    late = texts.CANCELLED_LATE.format(hours=desk.bookings.rules.late_cancel_hours) \
        if booking.status == BookingStatus.LATE_CANCELLED else ""
    return Step((texts.CANCELLED.format(number=number) + late,), END)


async def _reschedule(desk: Appointments, ctx: FlowContext, number: str) -> Step:
    booking = next((b for b in await desk.bookings.bookings_of(ctx.message.user_id)
                    if b.booking_no == number), None)
    window = desk.bookings.rules.window_for(booking.matter_id) if booking else None
    if booking is None or window is None:
        return Step(("这个预约已经不能改了。",), END)
    return Step((f"改到哪天？{texts.ASK_DAY}",), BookingState.DAY, {
        "matter": booking.matter_id, "variant": None, "window": window.id,
        "draft": secrets.token_hex(8), "name": booking.name, "phone": booking.phone,
        "replaces": booking.booking_no, "person_name": booking.person_name,
        "relation": booking.relation})


STEPS: dict[str, StepFn] = {
    BookingState.DAY: choose_day,
    BookingState.SLOT: choose_slot,
    BookingState.CONTACT: give_contact,
    BookingState.CONFIRM: confirm,
    BookingState.PICK: pick,
    BookingState.MANAGE: manage,
    BookingState.CONFIRM_CANCEL: confirm_cancel,
}


def looks_like_answer(current: str, kind: Kind, text: str) -> bool:
    """Whether a message answers the current question (else it is a side question)."""
    state = BookingState(current)
    if kind is not Kind.TEXT:
        return False
    if state is BookingState.CONTACT:
        return any(char.isdigit() for char in text) or bool(_CONTACT_NAME.fullmatch(
            text.strip()))
    if state in (BookingState.DAY, BookingState.SLOT):
        return describes_option(text) or \
            understand_when(text, chinatime.today(), 3650) is not None
    return choice_number(text) is not None


def prompt_again(current: str, slots: dict[str, Any], ctx: FlowContext) -> str:
    """The question to repeat after a side question."""
    state = BookingState(current)
    if state is BookingState.SLOT:
        options = "\n".join(f"{n}. {label}" for n, (_, label) in enumerate(slots["choices"], 1))
        return texts.CHOOSE_SLOT.format(options=options)
    if state is BookingState.CONFIRM:
        return _summary(ctx, slots)
    if state is BookingState.CONTACT:
        return texts.ASK_CONTACT
    if state in (BookingState.PICK, BookingState.MANAGE, BookingState.CONFIRM_CANCEL):
        return "请回复数字选择。"
    return texts.ASK_DAY


def remaining(slots: dict[str, Any]) -> str:
    """「还差什么」 while booking: what is left to choose."""
    if not slots.get("slot_id"):
        return "还没选时间。" + texts.ASK_DAY
    if not slots.get("phone"):
        return texts.ASK_CONTACT
    return "都填好了，回复 1 确认预约。"


def step_back(current: str, slots: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """「上一步」: not here (the time and contact are changed by saying them again)."""
    return None
