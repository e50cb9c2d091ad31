"""Channel stage (staff): `/console` — the clerks' web console, server-rendered.

    /console/login                sign in (scrypt-hashed passwords; session in Redis)
    /console                      人工队列: open handoffs of my window, live (server-sent events)
    /console/handoffs/{id}        transcript, the villager's cases and bookings; claim, reply
                                  (with a matter's guide attached), close
    /console/cases[/{receipt}]    办件 with 电子监察 colours; one case and its moves
    /console/today                today's appointments and home visits
    /console/figures[.csv]        the director's figures, charts drawn as SVG, CSV export
    /console/catalogue            事项 and 「发布更新」 (validate, retrain the NLU model)
    /console/audit                who did what

Every POST carries the session's CSRF token (403 without it); no session: the login page
(GET) or 401. A clerk sees their own window's work (and the general desk's); supervisors,
directors and admins see all. Every action is written to the audit log. Templates show
times through the `china` filter (China time, whatever the server's zone).
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.appointments.bookings import BookingError, slot_label
from bot.appointments.home_visits import HalfDay, HomeVisitService, VisitStatus, visit_half
from bot.appointments.service import BookingService
from bot.cases.application import CaseError
from bot.cases.identity import mask_id_number, mask_numbers_in, mask_phone
from bot.cases.service import CaseService
from bot.cases.status import Status
from bot.catalogue.center import Center
from bot.catalogue.lint import completeness
from bot.catalogue.model import Catalogue
from bot.console.accounts import Accounts, Who
from bot.console.figures import Figures, figures
from bot.dialogue.state import StateStore
from bot.handoff.service import RATINGS, HandoffError, HandoffService, HandoffStatus
from bot.intents import Intent, guide
from bot.security.lockout import Locked, wait_words
from bot.storage import keys
from bot.storage.tables import HomeVisit
from bot.web.assets import asset
from bot.web.bodies import BadBody, CaseMove, Reply, parse, row_id
from bot.web.security import client_address, is_https
from bot.web.windows import (
    OtherWindow,
    booking_in_window,
    matter_window,
    require,
    visit_in_window,
    visit_window,
)

COOKIE = "bm_console"
REASONS = {"asked": "要求人工", "menu": "菜单转人工", "complaint": "投诉",
           "not_understood": "机器人没听懂", "delete_my_data": "删除个人信息",
           "clerk": "工作人员发起"}
STATUS_WORDS = {"waiting": "等待接手", "claimed": "处理中", "closed": "已结束",
                "cancelled": "已取消"}
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
    finalize=chinatime.shown_if_time)  # a time printed without the filter is China time too
TEMPLATES.filters["china"] = chinatime.shown


@dataclass
class ConsoleServices:
    accounts: Accounts
    handoffs: HandoffService
    cases: CaseService
    bookings: BookingService
    visits: HomeVisitService
    catalogue: Catalogue
    center: Center
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    publish: Callable[[], Awaitable[str]]  # validate the catalogue and retrain: a report
    conversations: StateStore  # a clerk taking up a villager's conversation

    def window_of(self, matter_id: str | None) -> str:
        return matter_window(self.bookings.rules, matter_id)

    def window_name(self, window_id: str) -> str:
        window = self.bookings.rules.window(window_id)
        return window.name if window else "综合窗口"


CONSOLE = web.AppKey("console", ConsoleServices)
Handler = Callable[[web.Request, Who], Awaitable[web.StreamResponse]]


def render(name: str, who: Who | None, status: int = 200, **context: Any) -> web.Response:
    html = TEMPLATES.get_template(name).render(who=who, **context)
    return web.Response(text=html, content_type="text/html", status=status)


def page(*roles: str) -> Callable[[Handler], Callable[[web.Request], Awaitable[Any]]]:
    """Signed in (else the login page, or 401), in one of `roles` (else 403), and for a POST
    the session's CSRF token (else 403)."""

    def decorate(handler: Handler) -> Callable[[web.Request], Awaitable[Any]]:
        async def checked(request: web.Request) -> web.StreamResponse:
            services = request.app[CONSOLE]
            who = await services.accounts.who(request.cookies.get(COOKIE, ""))
            if who is None:
                if request.method == "GET":
                    raise web.HTTPFound("/console/login")
                return web.Response(status=401, text="请先登录")
            if roles and who.role not in roles:
                return render("error.html", who, 403, message="您的角色不能做这件事")
            if request.method == "POST":
                form = await request.post()
                if not hmac.compare_digest(str(form.get("csrf", "")), who.csrf):
                    return render("error.html", who, 403, message="页面已过期，请刷新后再试")
            try:
                return await handler(request, who)
            except BadBody as bad:
                return render("error.html", who, 400, message=f"填写的内容不对：{bad}")
            except OtherWindow as other:
                return render("error.html", who, 403, message=str(other))

        return checked

    return decorate


# --- signing in -----------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    return render("login.html", None)


async def login(request: web.Request) -> web.Response:
    """Wrong passwords are limited per name and per address: past the limit, 429."""
    form = await request.post()
    try:
        session_id = await request.app[CONSOLE].accounts.sign_in(
            str(form.get("username", "")), str(form.get("password", "")),
            client_address(request))
    except Locked as locked:
        response = render("login.html", None, 429,
                          error=f"登录失败次数太多，请{wait_words(locked.seconds)}后再试。")
        response.headers["Retry-After"] = str(locked.seconds)
        return response
    if session_id is None:
        return render("login.html", None, 401, error="用户名或密码不对")
    response = web.HTTPFound("/console")
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="Strict",
                        path="/console", secure=is_https(request))
    raise response


@page()
async def logout(request: web.Request, who: Who) -> web.Response:
    await request.app[CONSOLE].accounts.sign_out(request.cookies.get(COOKIE, ""))
    response = web.HTTPFound("/console/login")
    response.del_cookie(COOKIE, path="/console")
    raise response


# --- handoffs ---------------------------------------------------------------------------


@page()
async def queue(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    handoffs = await services.handoffs.queue(who.windows)
    rows = [{"id": h.id, "reason": REASONS.get(h.reason, h.reason),
             "status": STATUS_WORDS.get(h.status, h.status), "claimed_by": h.claimed_by,
             "window": services.window_name(h.window), "opened": h.opened_at,
             "matter": _matter_name(services, h.matter_id), "overdue": bool(h.escalated_at),
             "waiting": h.status == HandoffStatus.WAITING} for h in handoffs]
    return render("queue.html", who, handoffs=rows)


# Open event streams, ended on shutdown: a browser keeps its stream open for ever, and the
# server would otherwise wait for it (aiohttp's shutdown timeout) before exiting.
SHUTTING_DOWN = web.AppKey("console_shutting_down", asyncio.Event)
SHUTDOWN_CHECK = 0.5  # seconds an open event stream may keep the server from stopping
SUBSCRIBE_TIMEOUT = 5.0  # seconds for Redis to confirm a page's subscription
KEEP_ALIVE = 15.0  # seconds of quiet before a keep-alive line (proxies close idle streams)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: new, claimed and closed handoffs, as they happen, while the
    session lasts (a disabled clerk's or a revoked session's stream ends at its next line)
    and until the server shuts down (it waits for no open page: SHUTDOWN_CHECK)."""
    services = request.app[CONSOLE]
    cookie = request.cookies.get(COOKIE, "")
    if await services.accounts.who(cookie) is None:
        return web.Response(status=401, text="请先登录")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    # The connection ends with the stream: kept alive after it, the server would wait for
    # the page's next request before shutting down (60 s).
    response.force_close()
    pubsub = services.redis.pubsub()
    shutting_down = request.app[SHUTTING_DOWN]
    try:
        # Subscribed, and Redis has said so, before the page hears it is connected: an
        # alert published from then on reaches it.
        await pubsub.subscribe(keys.CONSOLE_ALERTS)
        if await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT) is None:
            raise TimeoutError("no reply from Redis to SUBSCRIBE")
        await response.prepare(request)
        await response.write(b": connected\n\n")
        quiet = 0.0
        while not shutting_down.is_set():
            message = await pubsub.get_message(ignore_subscribe_messages=True,
                                               timeout=SHUTDOWN_CHECK)
            quiet = 0.0 if message else quiet + SHUTDOWN_CHECK
            if not message and quiet < KEEP_ALIVE:
                continue
            if await services.accounts.who(cookie, touch=False) is None:
                break
            quiet = 0.0
            line = f"data: {message['data']}\n\n" if message else ": keep-alive\n\n"
            await response.write(line.encode())
    except ConnectionResetError:  # the page was closed
        pass
    finally:
        await pubsub.unsubscribe(keys.CONSOLE_ALERTS)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    return response


async def _handoff_for(request: web.Request, who: Who) -> Any:
    services = request.app[CONSOLE]
    handoff_id = row_id(request.match_info["handoff_id"])
    try:
        handoff = await services.handoffs.get(handoff_id) if handoff_id else None
    except HandoffError:
        handoff = None
    if handoff is None:
        raise web.HTTPNotFound(text="没有这个人工服务")
    require(who, handoff.window, "人工服务")
    return handoff


def _transcript(handoff: Any, messages: list[Any], full: bool
                ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The conversation before and after the handoff, ID and phone numbers masked unless
    `full`."""
    shown = (lambda text: text) if full else mask_numbers_in
    return ([{"dir": line.get("dir", ""), "text": shown(str(line.get("text", "")))}
             for line in handoff.transcript],
            [{"author": m.author, "at": m.at, "text": shown(m.text)} for m in messages])


@page()
async def handoff_page(request: web.Request, who: Who) -> web.Response:
    """The handoff; 「显示完整号码」 (?full=1) shows the numbers in full, and is audited."""
    services = request.app[CONSOLE]
    handoff = await _handoff_for(request, who)
    full = request.query.get("full") == "1"
    if full:
        await services.accounts.audit(who.username, "handoff.reveal", f"handoff:{handoff.id}")
    transcript, messages = _transcript(handoff, await services.handoffs.messages(handoff.id),
                                       full)
    cases = await services.cases.cases_of(handoff.user_id)
    bookings = await services.bookings.bookings_of(handoff.user_id)
    visits = await services.visits.visits_of(handoff.user_id)
    return render(
        "handoff.html", who, handoff=handoff, reason=REASONS.get(handoff.reason, handoff.reason),
        state=STATUS_WORDS.get(handoff.status, handoff.status), transcript=transcript,
        messages=messages, full=full,
        cases=[{"receipt": c.receipt_no, "matter": _matter_name(services, c.matter_id),
                "status": Status(c.status).label, "due": c.due_date} for c in cases],
        bookings=[{"number": b.booking_no, "when": slot_label(b.slot),
                   "matter": _matter_name(services, b.matter_id)} for b in bookings],
        visits=[{"number": v.visit_no, "person": v.person_name,
                 "when": (half.label if (half := visit_half(v)) else "待安排")} for v in visits],
        matters=sorted(((m.id, m.name) for m in services.catalogue), key=lambda m: m[1]),
        ratings=RATINGS, mine=handoff.claimed_by == who.username)


async def _act(request: web.Request, who: Who, action: str,
               run: Callable[[int], Awaitable[Any]]) -> web.Response:
    handoff = await _handoff_for(request, who)
    try:
        await run(handoff.id)
    except HandoffError as refused:
        return render("error.html", who, 409, message=str(refused))
    await request.app[CONSOLE].accounts.audit(who.username, action, f"handoff:{handoff.id}",
                                              {"status": handoff.status})
    raise web.HTTPFound(f"/console/handoffs/{handoff.id}")


@page("clerk", "supervisor", "admin")
async def claim(request: web.Request, who: Who) -> web.Response:
    handoffs = request.app[CONSOLE].handoffs
    return await _act(request, who, "handoff.claim",
                      lambda hid: handoffs.claim(hid, who.username))


@page("clerk", "supervisor", "admin")
async def reply(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    form = await request.post()  # read once by the CSRF check; aiohttp keeps it
    given = parse(Reply, {k: str(form.get(k, "")) for k in ("text", "guide")})
    text = given.text.strip()
    attached = services.catalogue.get(given.guide)
    if attached is not None:  # 「附上办事指南」: the matter's whole materials list
        answer = guide.answer(Intent.ASK_MATERIALS, attached, None, services.center)
        text = f"{text}\n{answer}".strip()
    return await _act(request, who, "handoff.reply",
                      lambda hid: services.handoffs.reply(hid, who.username, who.name, text))


@page("clerk", "supervisor", "admin")
async def close(request: web.Request, who: Who) -> web.Response:
    handoffs = request.app[CONSOLE].handoffs
    return await _act(request, who, "handoff.close",
                      lambda hid: handoffs.close(hid, who.username))


# --- cases, today -------------------------------------------------------------------------


def _matter_name(services: ConsoleServices, matter_id: str | None) -> str:
    matter = services.catalogue.get(matter_id or "")
    return matter.short_name if matter else (matter_id or "")


def _matters_of(services: ConsoleServices, who: Who) -> list[str] | None:
    """The matters whose cases `who` may see; None: all."""
    if who.windows is None:
        return None
    return [m.id for m in services.catalogue if who.sees(services.window_of(m.id))]


@page()
async def cases_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    raw = request.query.get("status") or None
    status = Status(raw) if raw and raw in {s.value for s in Status} else None
    today = services.bookings.today()
    rows = [{"receipt": c.receipt_no, "matter": _matter_name(services, c.matter_id),
             "applicant": c.applicant_name, "id_number": mask_id_number(c.applicant_id_number),
             "phone": mask_phone(c.phone), "village": c.village, "status": Status(c.status).label,
             "due": c.due_date, "colour": services.cases.supervision_mark(c, today)}
            for c in await services.cases.list_cases(status, 200, _matters_of(services, who))]
    return render("cases.html", who, cases=rows, statuses=list(Status), chosen=raw)


async def _case_for(request: web.Request, who: Who) -> Any:
    services = request.app[CONSOLE]
    try:
        case = await services.cases.get(request.match_info["receipt"])
    except CaseError:
        raise web.HTTPNotFound(text="没有这个受理编号") from None
    require(who, services.window_of(case.matter_id), "办件")
    return case


@page()
async def case_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    case = await _case_for(request, who)
    # the full ID number and phone are shown here only, and who looked is logged
    await services.accounts.audit(who.username, "case.view", f"case:{case.receipt_no}")
    return render("case.html", who, case=case, matter=_matter_name(services, case.matter_id),
                  case_status=Status(case.status), statuses=list(Status))


@page("clerk", "supervisor", "admin")
async def move_case(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    case = await _case_for(request, who)
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
    case = await _case_for(request, who)
    transcript = await services.conversations.transcript(case.channel, case.user_id)
    try:
        handoff_id = await services.handoffs.open_by_clerk(
            case.user_id, case.channel, case.matter_id, who.username, transcript)
    except HandoffError as refused:
        return render("error.html", who, 409, message=str(refused))
    await services.conversations.attach_handoff(case.channel, case.user_id, handoff_id)
    await services.accounts.audit(who.username, "handoff.contact", f"case:{case.receipt_no}",
                                  None, {"handoff": handoff_id})
    raise web.HTTPFound(f"/console/handoffs/{handoff_id}")


@page()
async def today_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    day = services.bookings.today()
    windows = who.windows
    bookings = [{"number": b.booking_no, "when": slot_label(b.slot), "name": b.name,
                 "phone": mask_phone(b.phone), "matter": _matter_name(services, b.matter_id),
                 "window": services.window_name(b.slot.window), "status": b.status}
                for b in await services.bookings.day_view(day)
                if windows is None or b.slot.window in windows]
    visits = [{"number": v.visit_no, "person": v.person_name, "address": v.address,
               "when": (half.label if (half := visit_half(v)) else ""), "status": v.status}
              for v in await _visits_of(services, who, day=day)]
    requested = [{"number": v.visit_no, "person": v.person_name, "age": v.age,
                  "purpose": v.purpose, "address": v.address, "phone": mask_phone(v.phone),
                  "agent": (agent.name if (agent := services.visits.rules.agent(v.agent_id))
                            else v.agent_id),
                  "preferred": [(k, HalfDay.parse(k).label) for k in v.preferred]}
                 for v in await _visits_of(services, who, VisitStatus.REQUESTED)]
    return render("today.html", who, day=day, bookings=bookings, visits=visits,
                  requested=requested)


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
    raise web.HTTPFound("/console/today")


# --- figures, catalogue, audit ---------------------------------------------------------------


MAX_PERIOD_DAYS = 366  # the figures' longest period (a leap year)


def _period(request: web.Request, today: date) -> tuple[date, date]:
    """The figures' period: this month so far unless `from` and `to` say otherwise; at most
    MAX_PERIOD_DAYS (each day is a Redis read)."""
    try:
        first = chinatime.typed_day(request.query["from"]) if "from" in request.query \
            else today.replace(day=1)
        last = chinatime.typed_day(request.query["to"]) if "to" in request.query else today
    except ValueError:
        raise BadBody("日期应为 2000—2100 年的 YYYY-MM-DD") from None
    if not 0 <= (last - first).days < MAX_PERIOD_DAYS:
        raise BadBody(f"结束日期不能早于开始，最长 {MAX_PERIOD_DAYS} 天")
    return first, last


async def _figures(request: web.Request) -> Any:
    services = request.app[CONSOLE]
    first, last = _period(request, services.bookings.today())
    names = {m.id: m.short_name for m in services.catalogue}
    return await figures(services.sessions, services.redis, services.handoffs, first, last,
                         names)


def bars(rows: list[tuple[str, int]], width: int = 520) -> dict[str, Any]:
    """An SVG bar chart's geometry: drawn by the template, no script, no CDN."""
    top = max((n for _, n in rows), default=0) or 1
    return {"height": 22 * len(rows) + 4, "width": width,
            "bars": [{"label": label, "count": n, "y": 22 * i + 2,
                      "w": max(1, int((width - 190) * n / top))}
                     for i, (label, n) in enumerate(rows[:15])]}


@page("director", "supervisor", "admin")
async def figures_page(request: web.Request, who: Who) -> web.Response:
    found = await _figures(request)
    charts = {"按事项": bars(found.by_matter), "按村": bars(found.by_village),
              "按渠道": bars(found.by_channel), "按月": bars(found.by_month),
              "满意度": bars(list(found.handoffs.get("ratings", {}).items()))}
    return render("figures.html", who, f=found, charts=charts)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A spreadsheet runs a cell starting with = + - @ (or tab, CR) as a formula: a village
    named =HYPERLINK(…) is written with a leading apostrophe, as text."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv_rows(found: Figures) -> list[list[object]]:
    rows: list[list[object]] = [["指标", "项目", "数值"],
                                ["期间", "", f"{found.first}至{found.last}"],
                                ["办件量", "合计", found.cases]]
    for title, counted in (("办件量", found.by_matter), ("按村", found.by_village),
                           ("按渠道", found.by_channel), ("按月", found.by_month)):
        rows.extend([title, label, n] for label, n in counted)
    rows.append(["按时办结率", "", f"{found.on_time_rate:.1%}" if found.on_time_rate
                 is not None else ""])
    rows.append(["平均办理天数", "", f"{found.average_days:.1f}" if found.average_days
                 is not None else ""])
    rows.extend(["满意度", label, n] for label, n in found.handoffs.get("ratings", {}).items())
    rows.append(["人工服务", "次数", found.handoffs.get("handoffs", 0)])
    rows.append(["机器人解决率", "", f"{found.containment:.1%}" if found.containment
                 is not None else ""])
    return rows


@page("director", "supervisor", "admin")
async def figures_csv(request: web.Request, who: Who) -> web.Response:
    found = await _figures(request)
    out = io.StringIO()
    csv.writer(out).writerows([safe_cell(cell) for cell in row] for row in _csv_rows(found))
    body = "\ufeff" + out.getvalue()  # a BOM, so that Excel reads the Chinese right
    return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="figures-{found.first}-{found.last}.csv"'})


@page()
async def catalogue_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    report = await services.redis.get(keys.CONSOLE_PUBLISH)
    return render("catalogue.html", who,
                  matters=[(m, completeness(m)) for m in services.catalogue],
                  report=json.loads(report) if report else None)


@page("admin")
async def publish(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]

    async def run() -> None:
        report = await services.publish()
        await services.redis.set(keys.CONSOLE_PUBLISH, json.dumps(
            {"by": who.name, "report": report}, ensure_ascii=False))

    await services.redis.set(keys.CONSOLE_PUBLISH, json.dumps(
        {"by": who.name, "report": "正在检查并重新训练……"}, ensure_ascii=False))
    request.app[PUBLISHING] = asyncio.create_task(run())
    await services.accounts.audit(who.username, "catalogue.publish", "catalogue")
    raise web.HTTPFound("/console/catalogue")


PUBLISHING = web.AppKey("console_publishing", asyncio.Task)


@page("supervisor", "admin", "director")
async def audit_page(request: web.Request, who: Who) -> web.Response:
    entries = await request.app[CONSOLE].accounts.audit_log()
    return render("audit.html", who, entries=entries)


async def close_streams(app: web.Application) -> None:
    app[SHUTTING_DOWN].set()


def setup_routes(app: web.Application) -> None:
    app[SHUTTING_DOWN] = asyncio.Event()
    app.on_shutdown.append(close_streams)
    add = app.router
    add.add_get("/console/static/console.js", asset("console.js"))
    add.add_get("/console/login", login_page)
    add.add_post("/console/login", login)
    add.add_post("/console/logout", logout)
    add.add_get("/console", queue)
    add.add_get("/console/events", events)
    add.add_get("/console/handoffs/{handoff_id}", handoff_page)
    add.add_post("/console/handoffs/{handoff_id}/claim", claim)
    add.add_post("/console/handoffs/{handoff_id}/reply", reply)
    add.add_post("/console/handoffs/{handoff_id}/close", close)
    add.add_get("/console/cases", cases_page)
    add.add_get("/console/cases/{receipt}", case_page)
    add.add_post("/console/cases/{receipt}/move", move_case)
    add.add_post("/console/cases/{receipt}/contact", contact)
    add.add_get("/console/today", today_page)
    add.add_post("/console/bookings/{booking_no}/mark", mark_booking)
    add.add_post("/console/home-visits/{visit_no}/schedule", schedule_visit)
    add.add_get("/console/figures", figures_page)
    add.add_get("/console/figures.csv", figures_csv)
    add.add_get("/console/catalogue", catalogue_page)
    add.add_post("/console/catalogue/publish", publish)
    add.add_get("/console/audit", audit_page)
