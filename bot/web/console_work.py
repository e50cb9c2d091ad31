"""Channel stage (staff): the console's 办件 and today's work — cases with their moves and a
clerk's contact, today's appointments and home visits to mark or schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.appointments.bookings import BookingError, slot_label
from bot.appointments.home_visits import HalfDay, VisitStatus, visit_half
from bot.appointments.search import BookingQuery
from bot.appointments.when import day_label
from bot.cases.application import CaseError
from bot.cases.identity import mask_id_number, mask_phone
from bot.cases.status import Status
from bot.chinatime import local
from bot.console.accounts import Who
from bot.handoff.service import HandoffError
from bot.storage.tables import HomeVisit
from bot.web.bodies import BadBody, CaseMove, parse
from bot.web.console_base import (
    CONSOLE,
    ConsoleServices,
    matter_name,
    page,
    refusal,
    render,
)
from bot.web.console_words import BOOKING_WORDS
from bot.web.filters import (
    CASE_FIELDS,
    case_query,
    filled,
    page_number,
    pager,
    period,
    phone_typed,
    typed,
    typed_date,
)
from bot.web.windows import (
    booking_in_window,
    require,
    visit_in_window,
    visit_window,
)

# --- cases, today -------------------------------------------------------------------------


def _matters_of(services: ConsoleServices, who: Who) -> list[str] | None:
    """The matters whose cases `who` may see; None: all."""
    if who.windows is None:
        return None
    return [m.id for m in services.catalogue if who.sees(services.window_of(m.id))]


def matter_choices(services: ConsoleServices, who: Who) -> list[tuple[str, str]]:
    """The matters `who` may pick in a search form: (id, short name), by name."""
    allowed = _matters_of(services, who)
    return sorted(((m.id, m.short_name) for m in services.catalogue
                   if allowed is None or m.id in allowed), key=lambda choice: choice[1])


@page()
async def cases_page(request: web.Request, who: Who) -> web.Response:
    """办件: the search form and one page of what it finds (filters kept in page links)."""
    services = request.app[CONSOLE]
    found = await services.cases.search(case_query(request.query, _matters_of(services, who)),
                                        page_number(request.query))
    today = services.bookings.today()
    rows = [{"receipt": c.receipt_no, "matter": matter_name(services, c.matter_id),
             "applicant": c.applicant_name, "id_number": mask_id_number(c.applicant_id_number),
             "phone": mask_phone(c.phone), "village": c.village, "status": Status(c.status).label,
             "accepted": c.accepted_at, "due": c.due_date,
             "colour": services.cases.supervision_mark(c, today)} for c in found.items]
    kept = filled(request.query, CASE_FIELDS)
    return render("cases.html", who, cases=rows, form=kept,
                  statuses_words=[(s.value, s.label) for s in Status],
                  matters=matter_choices(services, who), pager=pager(found, kept))


async def case_for(request: web.Request, who: Who) -> Any:
    """The case of the URL, if `who`'s windows have it (else 404 or 403)."""
    services = request.app[CONSOLE]
    try:
        case = await services.cases.get(request.match_info["receipt"])
    except CaseError:
        raise web.HTTPNotFound(text="没有这个受理编号") from None
    require(who, services.window_of(case.matter_id), "办件")
    return case


BOOKING_FIELDS = ("number", "name", "phone", "matter", "status", "from", "to")


@page()
async def bookings_page(request: web.Request, who: Who) -> web.Response:
    """预约查询: bookings of my windows by number, name, phone, matter, status and days."""
    services = request.app[CONSOLE]
    first, last = period(request.query)
    status = typed(request.query, "status")
    if status and status not in BOOKING_WORDS:
        raise BadBody(f"没有这个状态：{status}")
    found = await services.bookings.search(BookingQuery(
        who.windows, typed(request.query, "number"), typed(request.query, "name"),
        phone_typed(request.query), typed(request.query, "matter"), status, first, last),
        page_number(request.query))
    kept = filled(request.query, BOOKING_FIELDS)
    return render("bookings.html", who, form=kept, pager=pager(found, kept),
                  bookings=[{"number": b.booking_no, "when": slot_label(b.slot),
                             "day": local(b.slot.starts_at).date(), "name": b.name,
                             "for_whom": " ".join(p for p in (b.relation, b.person_name) if p),
                             "phone": mask_phone(b.phone), "status": b.status,
                             "matter": matter_name(services, b.matter_id),
                             "window": services.window_name(b.slot.window),
                             "channel": b.channel} for b in found.items],
                  statuses=list(BOOKING_WORDS.items()), matters=matter_choices(services, who))


@page()
async def case_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    case = await case_for(request, who)
    # the full ID number and phone are shown here only, and who looked is logged
    await services.accounts.audit(who.username, "case.view", f"case:{case.receipt_no}")
    files = [m.file_id for m in case.materials if m.file_id]
    return render("case.html", who, case=case, matter=matter_name(services, case.matter_id),
                  case_status=Status(case.status), statuses=list(Status),
                  names=await services.accounts.names(),
                  kinds=await services.cases.content_types(files),
                  notes=await services.cases.photo_notes(files))


@page("clerk", "supervisor", "admin")
async def move_case(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    case = await case_for(request, who)
    form = await request.post()
    body = parse(CaseMove, {
        "to": str(form.get("to", "")), "reason": str(form.get("reason", "")),
        "missing": [m for m in str(form.get("missing", "")).split("、") if m.strip()],
        "result": str(form.get("result", "")) or None})
    try:
        moved = await services.cases.move(case.receipt_no, body.to, who.name,
                                          reason=body.reason, missing=list(body.missing),
                                          result=body.result)
    except CaseError as refused:
        return render("error.html", who, 409, message=str(refused))
    await services.accounts.audit(who.username, "case.move", f"case:{case.receipt_no}",
                                  {"status": case.status}, {"status": moved.status})
    raise web.HTTPFound(f"/console/cases/{case.receipt_no}")


@page("clerk", "supervisor", "admin")
async def contact(request: web.Request, who: Who) -> web.Response:
    """「联系申请人」: the clerk takes up the conversation with the applicant."""
    services = request.app[CONSOLE]
    case = await case_for(request, who)
    transcript = await services.conversations.transcript(case.channel, case.user_id)
    try:
        handoff_id = await services.handoffs.open_by_clerk(
            case.user_id, case.channel, case.matter_id, who.username, transcript)
    except HandoffError as refused:
        return render("error.html", who, 409, message=await refusal(services, refused))
    await services.conversations.attach_handoff(case.channel, case.user_id, handoff_id)
    await services.accounts.audit(who.username, "handoff.contact", f"case:{case.receipt_no}",
                                  None, {"handoff": handoff_id})
    raise web.HTTPFound(f"/console/handoffs/{handoff_id}")


def _wanted(name: str, phone: str) -> Callable[[tuple[str | None, ...], str], bool]:
    """Whether a booking or visit of (names…, phone) fits the 姓名 / 电话 filter: a name
    begins with `name`, and the phone is `phone` or ends with its 4 digits."""
    def fits(names: tuple[str | None, ...], number: str) -> bool:
        named = not name or any(n and n.startswith(name) for n in names)
        return named and (not phone or number == phone or
                          (len(phone) == 4 and number.endswith(phone)))
    return fits


@page()
async def today_page(request: web.Request, who: Who) -> web.Response:
    """A day's appointments and home visits (?day=2026-12-03; today by default), filtered
    by name or phone; the day's bookings are few, so the filter runs on the day's list."""
    services = request.app[CONSOLE]
    today = services.bookings.today()
    day = typed_date(request.query, "day") or today
    fits = _wanted(typed(request.query, "name"), phone_typed(request.query))
    bookings = [{"number": b.booking_no, "when": slot_label(b.slot), "name": b.name,
                 "phone": mask_phone(b.phone), "matter": matter_name(services, b.matter_id),
                 "window": services.window_name(b.slot.window), "status": b.status,
                 "for_whom": " ".join(p for p in (b.relation, b.person_name) if p)}
                for b in await services.bookings.day_view(day)
                if who.sees(b.slot.window) and fits((b.name, b.person_name), b.phone)]
    visits = [{"number": v.visit_no, "person": v.person_name, "address": v.address,
               "when": (half.label if (half := visit_half(v)) else ""), "status": v.status}
              for v in await _visits_of(services, who, day=day)
              if fits((v.person_name,), v.phone)]
    requested = [{"number": v.visit_no, "person": v.person_name, "age": v.age,
                  "relation": v.relation,
                  "purpose": v.purpose, "address": v.address, "phone": mask_phone(v.phone),
                  "agent": (agent.name if (agent := services.visits.rules.agent(v.agent_id))
                            else v.agent_id),
                  "preferred": [(k, HalfDay.parse(k).label) for k in v.preferred]}
                 for v in await _visits_of(services, who, VisitStatus.REQUESTED)
                 if fits((v.person_name,), v.phone)]
    kept = filled(request.query, ("name", "phone"))

    def link(other: date) -> str:  # the day before or after, with the same filter
        return "?" + urlencode({"day": other.isoformat(), **kept})

    return render("today.html", who, day=day, today=today, bookings=bookings, visits=visits,
                  requested=requested, label=day_label(day), form=kept,
                  before=link(day - timedelta(days=1)), after=link(day + timedelta(days=1)))


async def _visits_of(services: ConsoleServices, who: Who, status: str | None = None,
                     day: date | None = None) -> list[HomeVisit]:
    """Home visits (name, age, address) of `who`'s windows only."""
    return [v for v in await services.visits.listing(status, day)
            if who.sees(visit_window(services.bookings.rules, v))]


@page("clerk", "supervisor", "admin")
async def schedule_visit(request: web.Request, who: Who) -> web.Response:
    """Accept one of the villager's half-days, or propose another (「2026-11-25 pm」)."""
    services = request.app[CONSOLE]
    number = request.match_info["visit_no"]
    try:
        when = HalfDay.parse(str((await request.post()).get("when", "")))
        await visit_in_window(services.visits, services.bookings.rules, number, who)
        visit = await services.visits.schedule(number, when, who.name)
    except ValueError:
        return render("error.html", who, 400, message="时间格式应为 2026-11-25 am 或 pm")
    except BookingError as refused:
        return render("error.html", who, 409, message=str(refused))
    await services.accounts.audit(who.username, "home_visit.schedule", f"visit:{number}",
                                  None, {"when": when.key, "proposed": visit.proposed})
    raise web.HTTPFound("/console/today")


@page("clerk", "supervisor", "admin")
async def mark_booking(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    number, to = request.match_info["booking_no"], str((await request.post()).get("to", ""))
    try:
        await booking_in_window(services.bookings, number, who)
        await services.bookings.mark(number, to, who.name)
    except BookingError as refused:
        return render("error.html", who, 409, message=str(refused))
    await services.accounts.audit(who.username, "booking.mark", f"booking:{number}",
                                  None, {"status": to})
    raise web.HTTPFound(await _back_to_day(request))


async def _back_to_day(request: web.Request) -> str:
    """The day's page the form was sent from (its hidden `day`), else today's."""
    day = typed_date({"day": str((await request.post()).get("day", ""))}, "day")
    return f"/console/today?day={day}" if day else "/console/today"
