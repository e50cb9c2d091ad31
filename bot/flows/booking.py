"""Dialogue stage: the booking flow — a time at the window, as a form.

    book_appointment(matter, first message) ─→ DAY (「明天」「周六」「下周一下午」「赶集那天」
        「随便」) ─→ SLOT (the nearest free slots, numbered; another day word asks again)
        ─→ CONTACT (name and phone) ─→ CONFIRM ─→ 1 book ─→ END: booking number, place and
        the complete materials list                  2 another time ─→ DAY

The form's slots are the day, the slot, who comes (name, phone) and whom the matter is for
(「帮我妈王秀英约」). Every message fills what it carries, at any step and in any order
(「我叫李红，电话138…」 while the day is asked; 「周六上午9点那个，李红 138…」), so a step asks
only for what is missing; at the confirmation a fact is corrected in words
(「电话错了，是139…」, 「改成周日」). Changing and cancelling a booking is
bot/flows/booking_changes.py.

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
from bot.appointments.bookings import SLOT_TAKEN, BookingError, SlotTaken, slot_label
from bot.appointments.home_visits import HomeVisitService
from bot.appointments.service import BookingRequest, BookingService
from bot.appointments.when import Refused, When, understand_when
from bot.cases.identity import mask_phone, normalize, phone_problem
from bot.catalogue.model import Matter
from bot.flows import END, FlowContext, Slots, Step, StepFn
from bot.flows import booking_texts as texts
from bot.flows.choice import choice_number, describes_option, pick_option
from bot.flows.facts import (
    SURNAMES,
    facts_in,
    for_whom_words,
    name_after_relation,
    name_beside,
    name_in,
    sender_phone,
)
from bot.messages import Kind

FLOW_NAME = "book"


class BookingState(StrEnum):
    DAY = "day"
    SLOT = "slot"
    CONTACT = "contact"
    CONFIRM = "confirm"


@dataclass(frozen=True, slots=True)
class Appointments:
    """The services the booking and home-visit flows use."""

    bookings: BookingService
    visits: HomeVisitService
    phone: str  # the center's, for when nothing can be booked
    # the center has not confirmed its evening, Saturday and market-day hours (center.yml)
    hours_to_confirm: bool = False


_CONTACT_PHONE = re.compile(r"[0-9-]{7,14}")
_CHOICE_THEN = re.compile(r"[\s,，、;；]+")
_NAME_WORD = re.compile(r"名字|姓名")
_CORRECTING = re.compile(r"改成|换成|改为|应该是|写错了?|错了|不对")
_ASKS = re.compile(r"[吗呢?？]|怎么|咋|什么|啥|哪|几|能不能|可不可以|行不行|要不要|不$")


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


Context = FlowContext[Appointments]


async def start(ctx: Context) -> Step:
    """Book the opening slots' matter, taking the day, who comes and whom it is for from
    the message that asked (「帮我妈王秀英约周六上午办残疾证，我叫李红，电话138…」)."""
    desk, matter, text = ctx.services, ctx.matter(), ctx.message.text
    window = desk.bookings.rules.window_for(matter.id)
    if window is None:
        return Step((texts.NOT_HERE.format(name=matter.short_name, place=matter.place),), END)
    booked = next((b for b in await desk.bookings.bookings_of(ctx.message.user_id)
                   if b.matter_id == matter.id), None)
    if booked is not None:  # said now, not after the villager has chosen a time
        return Step((texts.ALREADY_BOOKED.format(slot=slot_label(booked.slot),
                                                 number=booked.booking_no),), END)
    slots = {"matter": matter.id, "variant": ctx.slots.get("variant"), "window": window.id,
             "draft": secrets.token_hex(8), "name": None,
             "phone": sender_phone(ctx.message), "relation": None, "person_name": None,
             **told(text, bare_name=False)}
    when = understand_when(text, desk.bookings.today(), desk.bookings.rules.horizon_days)
    if isinstance(when, When):
        step = await _offer(desk, slots, when)
        first, *rest = step.replies
        return Step((f"预约办【{matter.short_name}】。{first}", *rest), step.next_state,
                    {**slots, **step.slots})
    return Step((f"预约到{window.name}办【{matter.short_name}】。{texts.ASK_DAY}",),
                BookingState.DAY, slots)


def told(text: str, *, bare_name: bool) -> dict[str, str]:
    """The booking's facts a message gives, whatever was asked: who comes and their phone
    (a bare 「张明」 only where a name was asked for), and whom the matter is for
    (「帮我妈王秀英约」, 「我妈叫王秀英」)."""
    cleaned = unicodedata.normalize("NFKC", text)
    found = facts_in(cleaned)
    someone_else = found.relation not in (None, "本人")
    person = name_after_relation(cleaned) or (found.name if someone_else else None)
    name = found.speaker or (found.name if not someone_else else None)
    # an ID number is not read as a phone (「李红，身份证1101…，电话138…」)
    digits = cleaned.replace(found.id_number, " ") if found.id_number else cleaned
    phone = _CONTACT_PHONE.search(digits.replace(" ", ""))
    number = found.phone or (normalize(phone.group()) if phone else None)
    if number and phone_problem(number) is not None:
        number = None
    if name is None and number:  # 「李红 138…」: a name written beside the phone; where no
        beside = name_beside(cleaned, number)  # name was asked, only with a common surname
        name = beside if beside and (bare_name or beside[0] in SURNAMES) else None
    if name is None and bare_name:
        name = name_in(cleaned.replace(person, " ") if person else cleaned)
    facts = {"name": name if name != person else None, "phone": number,
             "relation": found.relation, "person_name": person}
    return {key: value for key, value in facts.items() if value}


async def _offer(desk: Appointments, slots: Slots, when: When,
                 before: tuple[str, ...] = ()) -> Step:
    """The free slots for `when`; the step keeps the facts `slots` brought with it."""
    window = desk.bookings.rules.window(slots["window"])
    assert window is not None
    kept = {key: slots[key] for key in FACTS if slots.get(key)}
    offer = await desk.bookings.offer(window, when)
    if not offer.slots:
        full = texts.NOTHING_FREE.format(days=desk.bookings.rules.horizon_days, phone=desk.phone)
        return Step((*before, offer.note, full) if offer.note else (*before, full),
                    BookingState.DAY, kept)
    options = "\n".join(f"{n}. {slot_label(s)}" for n, s in enumerate(offer.slots, 1))
    reply = texts.CHOOSE_SLOT.format(options=options)
    if offer.nearest:  # 「12月20日（周日）民政窗口不办公，下面是最近能约的时间。」
        reply = f"{offer.note}，下面是最近能约的时间。\n{reply}"
    elif offer.note:  # 「20点不在办公时间，这些时间可以约……」: the same day, other hours
        reply = f"{offer.note}，{reply}"
    return Step((*before, reply), BookingState.SLOT,
                {**kept, "choices": [[s.id, slot_label(s)] for s in offer.slots],
                 "when": [when.first.isoformat(), when.last.isoformat(), when.part, when.hour,
                          when.market]})


FACTS = ("name", "phone", "relation", "person_name")  # what any message may fill


def _when_from(slots: Slots) -> When:
    first, last, part, hour, market = slots["when"]
    return When(date.fromisoformat(first), date.fromisoformat(last), part, hour, market)


def _noted(facts: dict[str, str]) -> str:
    """「已记下：李红，138****5678。」 for facts told before they were asked."""
    shown = [mask_phone(v) if k == "phone" else for_whom_words(v, None) if k == "relation"
             else v for k, v in facts.items()]
    return texts.NOTED.format(facts="，".join(shown)) if shown else ""


async def choose_day(ctx: Context) -> Step:
    desk, text = ctx.services, ctx.message.text
    number = choice_number(text)  # a day offered by number stands for its words
    if number is not None and 1 <= number <= len(texts.DAY_CHOICES):
        text = texts.DAY_CHOICES[number - 1][1]
    facts = told(text, bare_name=False)
    when = understand_when(text, desk.bookings.today(), desk.bookings.rules.horizon_days)
    if when is None:
        if facts:  # 「我叫李红，电话138…」 before the day: kept, the day asked again
            return Step((_noted(facts) + texts.ASK_DAY,), BookingState.DAY, facts)
        return Step((texts.DAY_NOT_UNDERSTOOD + texts.ASK_DAY,), BookingState.DAY)
    if isinstance(when, Refused):
        return Step((when.reason,), BookingState.DAY, facts)
    return await _offer(desk, {**ctx.slots, **facts}, when)


async def choose_slot(ctx: Context) -> Step:
    choices, text = ctx.slots["choices"], ctx.message.text
    labels = [label for _, label in choices]
    # 「第二个，李红 138…」: the choice first, the contact after it
    first, _, rest = _CHOICE_THEN.sub(" ", text.strip(), count=1).partition(" ")
    number, facts = pick_option(text, labels), told(text, bare_name=False)
    if number is None and rest and (number := pick_option(first, labels)) is not None:
        facts = {**facts, **told(rest, bare_name=True)}
    if number is None:
        when = understand_when(text, ctx.services.bookings.today(),
                               ctx.services.bookings.rules.horizon_days)
        if when is None and facts:  # 「李红 138…」 before choosing: kept, the times again
            return Step((_noted(facts) + prompt_again(BookingState.SLOT, ctx),),
                        BookingState.SLOT, facts)
        return await choose_day(ctx)  # 「那下周二呢」: another day
    if not 1 <= number <= len(choices):
        return Step((f"请回复 1 到 {len(choices)} 的数字。",), BookingState.SLOT)
    slot_id, label = choices[number - 1]
    chosen = {**facts, "slot_id": slot_id, "slot_label": label}
    return _after_slot(ctx, {**ctx.slots, **chosen}, chosen)


def _after_slot(ctx: Context, slots: Slots, changed: dict[str, Any]) -> Step:
    """With the time chosen: the confirmation, or only the part of the contact missing."""
    name, phone = slots.get("name"), slots.get("phone")
    if name and phone:  # told earlier, or known from the booking being moved
        return Step((_summary(ctx, slots),), BookingState.CONFIRM, changed)
    asked = texts.ASK_PHONE.format(name=name) if name else \
        texts.ASK_NAME if phone else texts.ASK_CONTACT
    return Step((asked,), BookingState.CONTACT, changed)


async def give_contact(ctx: Context) -> Step:
    text = ctx.message.text
    facts = told(text, bare_name=False)
    if not (facts.get("name") or facts.get("phone")):
        when = understand_when(text, ctx.services.bookings.today(),
                               ctx.services.bookings.rules.horizon_days)
        if isinstance(when, When):  # 「还是换到周日吧」, 「明天」 (no name): another day first
            return await _offer(ctx.services, {**ctx.slots, **facts}, when)
    facts = told(text, bare_name=True)
    slots = {**ctx.slots, **facts}
    if slots.get("name") and slots.get("phone"):
        return Step((_summary(ctx, slots),), BookingState.CONFIRM, facts)
    problem = phone_problem(text) if any(c.isdigit() for c in text) and not slots.get("phone") \
        else None
    missing = "和".join(what for what, key in (("姓名", "name"), ("手机号", "phone"))
                       if not slots.get(key))
    said = problem or texts.CONTACT_MISSING.format(what=missing)
    return Step((said, texts.ASK_CONTACT), BookingState.CONTACT, facts)


def _summary(ctx: Context, slots: Slots) -> str:
    window = ctx.services.bookings.rules.window(slots["window"])
    assert window is not None
    for_whom = for_whom_words(slots.get("relation"), slots.get("person_name"))
    return texts.CONFIRM.format(matter=ctx.matter().name, slot=slots["slot_label"],
                                for_whom=f"\n为谁办：{for_whom}" if for_whom else "",
                                place=f"{window.place}（{window.name}）", name=slots["name"],
                                phone=mask_phone(slots["phone"]))


async def confirm(ctx: Context) -> Step:
    choice = choice_number(ctx.message.text)
    if choice == 2:  # another time: the one chosen is no longer chosen
        return Step((texts.ASK_DAY,), BookingState.DAY, {"slot_id": None, "slot_label": None})
    if choice == 1:
        return await _book(ctx)
    return await _correct(ctx)


async def _correct(ctx: Context) -> Step:
    """At the confirmation, a fact said again in words: 「电话错了，是139…」, 「改成周日」."""
    desk, text = ctx.services, ctx.message.text
    said = told(text, bare_name=False)
    if _NAME_WORD.search(text):  # 「名字错了，是李洪」「姓名改成李洪」: the name after the words
        name = name_in(_CORRECTING.sub(" ", text))
        said = {**said, "name": name} if name else said
    facts = {key: value for key, value in said.items() if value != ctx.slots.get(key)}
    when = understand_when(text, desk.bookings.today(), desk.bookings.rules.horizon_days)
    if isinstance(when, When):
        return await _offer(desk, {**ctx.slots, **facts}, when)
    if isinstance(when, Refused):
        return Step((when.reason, texts.REPLY_1_OR_2), BookingState.CONFIRM, facts)
    if not facts:
        return Step((texts.REPLY_1_OR_2,), BookingState.CONFIRM)
    return Step((_summary(ctx, {**ctx.slots, **facts}),), BookingState.CONFIRM, facts)


async def _book(ctx: Context) -> Step:
    desk, slots, matter = ctx.services, ctx.slots, ctx.matter()
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


STEPS: dict[str, StepFn[Appointments]] = {
    BookingState.DAY: choose_day,
    BookingState.SLOT: choose_slot,
    BookingState.CONTACT: give_contact,
    BookingState.CONFIRM: confirm,
}


def looks_like_answer(current: str, kind: Kind, text: str) -> bool:
    """Whether a message answers (else it is a side question): a day, a time or a choice,
    a name or phone, whom it is for; at the contact and the confirmation a question carrying
    no number is asked of the bot."""
    if kind is not Kind.TEXT:
        return False
    state, plain = BookingState(current), unicodedata.normalize("NFKC", text).strip()
    has_digits = any(char.isdigit() for char in plain)
    when = describes_option(plain) or understand_when(plain, chinatime.today(), 3650) is not None
    if _ASKS.search(plain) and not has_digits and (
            state in (BookingState.CONTACT, BookingState.CONFIRM) or not when):
        return False  # 「需要本人到场不」, 「下午几点下班」: asked of the bot
    if when:
        return True
    if told(plain, bare_name=state is BookingState.CONTACT):
        return True
    if state is BookingState.CONFIRM and _NAME_WORD.search(plain):
        return True  # 「名字错了，是李洪」
    return state is BookingState.CONTACT and has_digits


def prompt_again(current: str, ctx: Context) -> str:
    """The question to repeat after a side question."""
    state, slots = BookingState(current), ctx.slots
    if state is BookingState.SLOT:
        options = "\n".join(f"{n}. {label}" for n, (_, label) in enumerate(slots["choices"], 1))
        return texts.CHOOSE_SLOT.format(options=options)
    if state is BookingState.CONFIRM:
        return _summary(ctx, slots)
    if state is BookingState.CONTACT:
        return texts.ASK_CONTACT
    return texts.ASK_DAY


def remaining(slots: Slots) -> str:
    """「还差什么」 while booking: what is left to choose."""
    if not slots.get("slot_id"):
        return "还没选时间。" + texts.ASK_DAY
    if not (slots.get("name") and slots.get("phone")):
        return texts.ASK_CONTACT
    return "都填好了，回复 1 确认预约。"


def step_back(current: str, slots: Slots) -> tuple[str, dict[str, Any]] | None:
    """「上一步」: not here (the time and contact are changed by saying them again)."""
    return None
