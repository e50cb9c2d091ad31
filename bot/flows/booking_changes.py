"""Dialogue stage: changing or cancelling a window booking or a home visit.

    cancel_appointment ─→ [PICK: which, when several] ─→ MANAGE ─→ 1 cancel ─→ CONFIRM_CANCEL
                                                                  (1 yes ─→ END, 2 keep ─→ END)
                                                                  2 another time ─→ booking's DAY
                                                                    (the booking form, moving it)
                                                                  3 keep it ─→ END

A new time is chosen with the booking form's own steps (bot/flows/booking.py), with the
name, phone and for-whom of the booking being moved already filled in.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any

from bot.appointments.bookings import BookingError, BookingStatus, slot_label
from bot.appointments.home_visits import VisitStatus, visit_half
from bot.catalogue.model import Catalogue
from bot.flows import END, FlowContext, Slots, Step, StepFn
from bot.flows import booking as booking_flow
from bot.flows import booking_texts as texts
from bot.flows.booking import Appointments, BookingState
from bot.flows.choice import choice_number
from bot.messages import Kind

FLOW_NAME = "change_booking"
Context = FlowContext[Appointments]


class ChangeState(StrEnum):
    PICK = "pick"
    MANAGE = "manage"
    CONFIRM_CANCEL = "confirm_cancel"


async def listing(desk: Appointments, user_id: str, catalogue: Catalogue) -> list[list[str]]:
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


async def start(ctx: Context) -> Step:
    items = await listing(ctx.services, ctx.message.user_id, ctx.catalogue)
    if not items:
        return Step((texts.NONE_BOOKED,), END)
    if len(items) == 1:
        return Step((_manage_prompt(items[0]),), ChangeState.MANAGE,
                    {"items": items, "number": items[0][0]})
    return Step((texts.WHICH_ONE.format(options=numbered(items)),), ChangeState.PICK,
                {"items": items})


def _manage_prompt(item: list[str]) -> str:
    number, line = item
    template = texts.MANAGE_VISIT if number.startswith("SM") else texts.MANAGE_BOOKING
    return template.format(item=f"{line}（{number}）")


async def pick(ctx: Context) -> Step:
    number, items = choice_number(ctx.message.text), ctx.slots["items"]
    if number is None or not 1 <= number <= len(items):
        return Step((f"请回复 1 到 {len(items)} 的数字。",), ChangeState.PICK)
    item = items[number - 1]
    return Step((_manage_prompt(item),), ChangeState.MANAGE, {"number": item[0]})


async def manage(ctx: Context) -> Step:
    choice, number = choice_number(ctx.message.text), str(ctx.slots["number"])
    visit = number.startswith("SM")
    if choice == 3:
        return Step((texts.KEPT,), END)
    if choice == 1:  # nothing is cancelled on one digit: asked once more
        return Step((texts.SURE_TO_CANCEL.format(number=number),), ChangeState.CONFIRM_CANCEL)
    if choice == 2 and not visit:
        return await _reschedule(ctx, number)
    return Step(("请回复 1 或 3。" if visit else "请回复 1、2 或 3。",), ChangeState.MANAGE)


async def confirm_cancel(ctx: Context) -> Step:
    choice, number, desk = choice_number(ctx.message.text), str(ctx.slots["number"]), ctx.services
    if choice == 2:
        return Step((texts.KEPT,), END)
    if choice != 1:
        return Step(("请回复 1 或 2。",), ChangeState.CONFIRM_CANCEL)
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


async def _reschedule(ctx: Context, number: str) -> Step:
    desk = ctx.services
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


STEPS: dict[str, StepFn[Appointments]] = {
    ChangeState.PICK: pick,
    ChangeState.MANAGE: manage,
    ChangeState.CONFIRM_CANCEL: confirm_cancel,
    **booking_flow.STEPS,  # a new time for the booking being moved
}


def _choosing_a_time(current: str) -> bool:
    return current in set(BookingState)


def looks_like_answer(current: str, kind: Kind, text: str) -> bool:
    if _choosing_a_time(current):
        return booking_flow.looks_like_answer(current, kind, text)
    return kind is Kind.TEXT and choice_number(text) is not None


def prompt_again(current: str, ctx: Context) -> str:
    if _choosing_a_time(current):
        return booking_flow.prompt_again(current, ctx)
    return "请回复数字选择。"


def remaining(slots: Slots) -> str:
    if "replaces" in slots:
        return booking_flow.remaining(slots)
    return "请回复数字选择。"


def step_back(current: str, slots: Slots) -> tuple[str, dict[str, Any]] | None:
    """「上一步」: not here (a choice is made again by its number)."""
    return None
