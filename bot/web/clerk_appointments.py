"""Channel stage (staff): `/api/clerk/` for appointments and home visits (JSON, bearer token).

    GET  /api/clerk/bookings?date=YYYY-MM-DD&window=civil    the day's bookings per window
    POST /api/clerk/bookings/{booking_no}/status            {"to": arrived / no_show / done}
    GET  /api/clerk/home-visits?status=&date=&agent=        requests and scheduled visits
    POST /api/clerk/home-visits/{visit_no}/schedule         {"date", "half": am/pm, "agent"?}
                                                            accept a preferred half-day or
                                                            propose (or move to) another
    POST /api/clerk/home-visits/{visit_no}/status           {"to": done / cancelled}

The rules (capacity, allowed moves) and the outbox events are the services'; this only
reads requests (typed, bot/web/bodies.py) and shapes answers. Phones and ID numbers are
masked in lists. A clerk sees and moves only their window's bookings and home visits (and
the general desk's): another window's gets 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from bot.appointments.bookings import BookingError, NotFound, slot_label
from bot.appointments.home_visits import HalfDay, HomeVisitService, visit_half
from bot.appointments.service import BookingService
from bot.cases.identity import mask_id_number, mask_phone
from bot.chinatime import local, typed_day
from bot.console.accounts import Who
from bot.storage.tables import Booking, HomeVisit
from bot.web.bodies import StatusChange, VisitSchedule, read_json
from bot.web.clerk_api import authenticated, json_response
from bot.web.windows import booking_in_window, require, visit_in_window, visit_window

BOOKINGS = web.AppKey("clerk_bookings", BookingService)
VISITS = web.AppKey("clerk_home_visits", HomeVisitService)


def _day(raw: str | None, today: date) -> date:
    return typed_day(raw) if raw else today


def booking_summary(booking: Booking) -> dict[str, Any]:
    return {"booking_no": booking.booking_no, "matter": booking.matter_id,
            "window": booking.slot.window, "starts_at": local(booking.slot.starts_at),
            "ends_at": local(booking.slot.ends_at), "kind": booking.slot.kind,
            "label": slot_label(booking.slot), "name": booking.name,
            "phone": mask_phone(booking.phone), "status": booking.status,
            "for": {"relation": booking.relation, "name": booking.person_name}}


def visit_summary(visit: HomeVisit, service: HomeVisitService) -> dict[str, Any]:
    half, agent = visit_half(visit), service.rules.agent(visit.agent_id)
    return {"visit_no": visit.visit_no, "person": visit.person_name, "relation": visit.relation,
            "id_number": mask_id_number(visit.id_number), "age": visit.age,
            "reason": visit.reason, "purpose": visit.purpose, "matter": visit.matter_id,
            "village": visit.village, "address": visit.address,
            "location": [visit.latitude, visit.longitude] if visit.latitude else None,
            "phone": mask_phone(visit.phone), "preferred": visit.preferred,
            "agent": visit.agent_id, "agent_name": agent.name if agent else None,
            "status": visit.status, "scheduled": half.key if half else None,
            "scheduled_label": half.label if half else None, "proposed": visit.proposed}


@authenticated
async def day_of_bookings(request: web.Request, clerk: Who) -> web.Response:
    service = request.app[BOOKINGS]
    try:
        day = _day(request.query.get("date"), service.today())
    except ValueError:
        return json_response({"error": "日期格式应为 YYYY-MM-DD"}, 400)
    window = request.query.get("window")
    if window and service.rules.window(window) is None:
        return json_response({"error": f"没有这个窗口：{window[:40]}"}, 404)
    if window:
        require(clerk, window, "预约")
    windows: dict[str, list[dict[str, Any]]] = {}
    for booking in await service.day_view(day, window):
        windows.setdefault(booking.slot.window, []).append(booking_summary(booking))
    return json_response({"date": day, "windows": [
        {"window": w.id, "name": w.name, "place": w.place, "bookings": windows.get(w.id, [])}
        for w in service.rules.windows if (not window or w.id == window) and clerk.sees(w.id)]})


@authenticated
async def mark_booking(request: web.Request, clerk: Who) -> web.Response:
    body = await read_json(request, StatusChange)
    try:
        await booking_in_window(request.app[BOOKINGS], request.match_info["booking_no"], clerk)
        booking = await request.app[BOOKINGS].mark(request.match_info["booking_no"],
                                                   body.to, clerk.name)
    except BookingError as refused:
        return json_response({"error": str(refused)},
                             404 if isinstance(refused, NotFound) else 409)
    return json_response(booking_summary(booking))


@authenticated
async def list_visits(request: web.Request, clerk: Who) -> web.Response:
    service = request.app[VISITS]
    try:
        day = typed_day(request.query["date"]) if "date" in request.query else None
    except ValueError:
        return json_response({"error": "日期格式应为 YYYY-MM-DD"}, 400)
    visits = await service.listing(request.query.get("status"), day,
                                   request.query.get("agent"))
    rules = request.app[BOOKINGS].rules
    return json_response({"home_visits": [visit_summary(v, service) for v in visits
                                          if clerk.sees(visit_window(rules, v))]})


@authenticated
async def schedule_visit(request: web.Request, clerk: Who) -> web.Response:
    body = await read_json(request, VisitSchedule)
    try:
        when = HalfDay.parse(f"{body.date} {body.half}")
    except ValueError:
        return json_response({"error": "date 应为 YYYY-MM-DD"}, 400)
    service = request.app[VISITS]
    try:
        await visit_in_window(service, request.app[BOOKINGS].rules,
                              request.match_info["visit_no"], clerk)
        visit = await service.schedule(request.match_info["visit_no"], when, clerk.name,
                                       body.agent)
    except BookingError as refused:
        return json_response({"error": str(refused)},
                             404 if isinstance(refused, NotFound) else 409)
    return json_response(visit_summary(visit, service))


@authenticated
async def close_visit(request: web.Request, clerk: Who) -> web.Response:
    body = await read_json(request, StatusChange)
    service = request.app[VISITS]
    try:
        await visit_in_window(service, request.app[BOOKINGS].rules,
                              request.match_info["visit_no"], clerk)
        visit = await service.close(request.match_info["visit_no"], body.to, clerk.name)
    except BookingError as refused:
        return json_response({"error": str(refused)},
                             404 if isinstance(refused, NotFound) else 409)
    return json_response(visit_summary(visit, service))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/clerk/bookings", day_of_bookings)
    app.router.add_post("/api/clerk/bookings/{booking_no}/status", mark_booking)
    app.router.add_get("/api/clerk/home-visits", list_visits)
    app.router.add_post("/api/clerk/home-visits/{visit_no}/schedule", schedule_visit)
    app.router.add_post("/api/clerk/home-visits/{visit_no}/status", close_visit)
