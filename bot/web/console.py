"""Channel stage (staff): `/console` — the clerks' web console, server-rendered.

    /console/login                sign in (scrypt-hashed passwords; session in Redis)
    /console                      人工队列: open handoffs of my window, live (server-sent events)
    /console/handoffs             人工记录: past handoffs (closed too), searched, paged
    /console/handoffs/{id}        transcript, the villager's cases and bookings; claim, reply
                                  (with a matter's guide attached), close
    /console/cases[/{receipt}]    办件: search and pages, 电子监察 colours; one case, its moves
    /console/cases/{r}/receipt    受理回执 to print (console_print.py)
    /console/today[?day=]         a day's appointments and home visits, by name or phone
    /console/figures[.csv]        the director's figures, charts drawn as SVG, CSV export
    /console/catalogue            事项 and 「发布更新」 (validate, retrain the NLU model);
                                  editing a matter in console_teaching.py
    /console/review               教机器人 (console_teaching.py)
    /console/catalogue/{m}/notice 一次性告知单 to print (console_print.py)
    /console/agents               代办员: register, binding codes, stop (console_agents.py)
    /console/villages             村里待送达 per village, and each village's sheet to print
    /console/audit                who did what

Every POST carries the session's CSRF token (403 without it); no session: the login page
(GET) or 401. A clerk sees their own window's work (and the general desk's); supervisors,
directors and admins see all. Every action is written to the audit log. Templates show
times through the `china` filter (China time, whatever the server's zone).

Here: signing in, the queue and its live events, handoffs, the catalogue and the audit log;
cases and today's work in console_work.py, the figures in console_figures.py, what every page
shares (services, templates, `page`) in console_base.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.appointments.bookings import slot_label
from bot.appointments.home_visits import visit_half
from bot.cases.identity import mask_numbers_in, mask_phone
from bot.cases.status import Status
from bot.catalogue.lint import completeness
from bot.console.accounts import ANSWERING, Who
from bot.handoff.service import RATINGS, HandoffError, HandoffQuery, HandoffStatus
from bot.intents import Intent, guide
from bot.security.lockout import Locked, wait_words
from bot.storage import keys
from bot.storage.tables import Handoff
from bot.web.assets import asset
from bot.web.bodies import BadBody, Reply, parse
from bot.web.console_agents import setup_agent_routes
from bot.web.console_base import (
    CONSOLE,
    COOKIE,
    REASONS,
    ConsoleServices,
    handoff_for,
    matter_name,
    page,
    refusal,
    render,
)
from bot.web.console_desk import setup_desk_routes
from bot.web.console_figures import figures_csv, figures_page
from bot.web.console_files import case_file, handoff_file
from bot.web.console_print import case_receipt, matter_notice
from bot.web.console_words import HANDOFF_WORDS
from bot.web.console_work import (
    bookings_page,
    case_page,
    cases_page,
    contact,
    mark_booking,
    matter_choices,
    move_case,
    schedule_visit,
    today_page,
)
from bot.web.filters import filled, page_number, pager, period, typed
from bot.web.security import client_address, is_https
from bot.web.windows import visit_window

log = logging.getLogger(__name__)

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


def _handoff_row(services: ConsoleServices, handoff: Handoff, names: dict[str, str],
                 now: datetime) -> dict[str, Any]:
    """One handoff as a row of the queue or of 人工记录, in words."""
    h = handoff
    return {"id": h.id, "reason": REASONS.get(h.reason, h.reason), "said": _last_said(h),
            "minutes": int((now - h.opened_at).total_seconds() // 60),
            "status": HANDOFF_WORDS[HandoffStatus(h.status)],
            "claimed_by": names.get(h.claimed_by or "", h.claimed_by),
            "window": services.window_name(h.window), "opened": h.opened_at,
            "closed": h.closed_at, "rating": RATINGS.get(h.rating or 0, ""),
            "matter": matter_name(services, h.matter_id), "overdue": bool(h.escalated_at),
            "waiting": h.status == HandoffStatus.WAITING}


@page()
async def queue(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    handoffs, names = await services.handoffs.queue(who.windows), await services.accounts.names()
    now = services.bookings.now()
    return render("queue.html", who,
                  handoffs=[_handoff_row(services, h, names, now) for h in handoffs])


HANDOFF_FIELDS = ("from", "to", "status", "matter", "words", "villager")


def _handoff_query(params: Mapping[str, str], who: Who) -> HandoffQuery:
    first, last = period(params)
    status = typed(params, "status")
    if status and status not in HANDOFF_WORDS:
        raise BadBody(f"没有这个状态：{status}")
    return HandoffQuery(who.windows, first, last, HandoffStatus(status) if status else None,
                        typed(params, "matter"), typed(params, "words"),
                        typed(params, "villager"))


@page()
async def handoffs_page(request: web.Request, who: Who) -> web.Response:
    """人工记录: the handoffs of my windows, closed ones too, searched and a page at a time."""
    services = request.app[CONSOLE]
    found = await services.handoffs.search(_handoff_query(request.query, who),
                                           page_number(request.query))
    names, now = await services.accounts.names(), services.bookings.now()
    kept = filled(request.query, HANDOFF_FIELDS)
    return render("handoffs.html", who, form=kept, pager=pager(found, kept),
                  handoffs=[_handoff_row(services, h, names, now) for h in found.items],
                  statuses=[(s.value, HANDOFF_WORDS[s]) for s in HandoffStatus],
                  matters=matter_choices(services, who))


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


PREVIEW_CHARS = 40


def _last_said(handoff: Any) -> str:
    """What the villager wrote last, before or after the handoff, numbers masked, for the
    queue row."""
    said = handoff.said.rsplit("\n", 1)[-1] if handoff.said else ""
    said = mask_numbers_in(said).replace("\n", " ")
    return said if len(said) <= PREVIEW_CHARS else said[:PREVIEW_CHARS] + "…"


async def _transcript(services: ConsoleServices, handoff: Any, messages: list[Any],
                      full: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The conversation before and after the handoff, ID and phone numbers masked unless
    `full`; a photo or voice past its keeping shows as not kept."""
    shown = (lambda text: text) if full else mask_numbers_in
    sent = [int(line["file_id"]) for line in handoff.transcript
            if str(line.get("file_id", "")).isdigit()]
    kept = await services.cases.content_types(sent)
    return ([{"dir": line.get("dir", ""), "text": shown(str(line.get("text", ""))),
              "kind": line.get("kind", "text"),
              "file": line["file_id"] if int(line.get("file_id") or 0) in kept else None}
             for line in handoff.transcript],
            [{"author": m.author, "at": m.at, "text": shown(m.text), "kind": m.kind,
              "file": m.file_id} for m in messages])


def _villager(cases: list[Any], bookings: list[Any], visits: list[Any],
              full: bool) -> dict[str, str]:
    """Who the villager is, as their latest case, booking or home visit says."""
    said = [(c.accepted_at, c.applicant_name, c.phone, c.village) for c in cases]
    said += [(b.created_at, b.name, b.phone, "") for b in bookings]
    said += [(v.created_at, v.person_name, v.phone, v.village) for v in visits]
    said.sort(key=lambda row: row[0], reverse=True)
    name = next((row[1] for row in said if row[1]), "")
    phone = next((row[2] for row in said if row[2]), "")
    village = next((row[3] for row in said if row[3]), "")
    return {"name": name, "phone": phone if full or not phone else mask_phone(phone),
            "village": village}


@page()
async def handoff_page(request: web.Request, who: Who) -> web.Response:
    """The handoff; 「显示完整号码」 (?full=1) shows the numbers in full, and is audited."""
    services = request.app[CONSOLE]
    handoff = await handoff_for(request, who)
    full = request.query.get("full") == "1"
    if full:
        await services.accounts.audit(who.username, "handoff.reveal", f"handoff:{handoff.id}")
    transcript, messages = await _transcript(
        services, handoff, await services.handoffs.messages(handoff.id), full)
    # beside the chat, only what the clerk's windows hold: another window's case, and the
    # name and village it gives, stay as hidden here as on their own pages
    cases = [c for c in await services.cases.cases_of(handoff.user_id)
             if who.sees(services.window_of(c.matter_id))]
    names = await services.accounts.names()
    bookings = [b for b in await services.bookings.bookings_of(handoff.user_id)
                if who.sees(b.slot.window)]
    visits = [v for v in await services.visits.visits_of(handoff.user_id)
              if who.sees(visit_window(services.bookings.rules, v))]
    return render(
        "handoff.html", who, handoff=handoff, reason=REASONS.get(handoff.reason, handoff.reason),
        state=HANDOFF_WORDS[HandoffStatus(handoff.status)], transcript=transcript,
        villager=_villager(cases, bookings, visits, full),
        messages=messages, full=full, names=names,
        cases=[{"receipt": c.receipt_no, "matter": matter_name(services, c.matter_id),
                "status": Status(c.status).label, "due": c.due_date} for c in cases],
        bookings=[{"number": b.booking_no, "when": slot_label(b.slot),
                   "matter": matter_name(services, b.matter_id)} for b in bookings],
        visits=[{"number": v.visit_no, "person": v.person_name,
                 "when": (half.label if (half := visit_half(v)) else "待安排")} for v in visits],
        matters=sorted(((m.id, m.name) for m in services.catalogue), key=lambda m: m[1]),
        ratings=RATINGS, mine=handoff.claimed_by == who.username and who.role in ANSWERING,
        saved_replies=await services.replies.of([handoff.window, "general"]),
        windows=[(w.id, w.name) for w in services.bookings.rules.windows],
        colleagues=[(login, f"{name}（{services.window_name(window) if window else '各窗口'}）")
                    for login, name, window in await services.accounts.answering()
                    if login != who.username])


async def _act(request: web.Request, who: Who, action: str,
               run: Callable[[int], Awaitable[Any]]) -> web.Response:
    handoff = await handoff_for(request, who)
    try:
        await run(handoff.id)
    except HandoffError as refused:
        return render("error.html", who, 409,
                      message=await refusal(request.app[CONSOLE], refused))
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


@page()
async def catalogue_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    report = await services.redis.get(keys.CONSOLE_PUBLISH)
    catalogue = await services.editor.catalogue()  # with every worker's latest edits
    return render("catalogue.html", who,
                  matters=[(m, completeness(m)) for m in catalogue],
                  report=json.loads(report) if report else None)


@page("admin")
async def publish(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    # one publication at a time, whichever worker was asked: two would train into the same
    # build directory
    if not await services.redis.set(keys.CONSOLE_PUBLISHING, who.username, nx=True,
                                    ex=PUBLISH_LOCK_SECONDS):
        return render("error.html", who, 409, message="正在发布更新，请等这一次做完再点")

    async def run() -> None:
        try:
            report = await services.publish()
        except Exception:  # the lock must go, and the page must not say 「正在…」 for ever
            log.exception("publishing failed")
            report = "发布没有完成（出错了），请稍后再试或联系技术人员"
        finally:
            await services.redis.delete(keys.CONSOLE_PUBLISHING)
        await services.redis.set(keys.CONSOLE_PUBLISH, json.dumps(
            {"by": who.name, "report": report}, ensure_ascii=False))

    await services.redis.set(keys.CONSOLE_PUBLISH, json.dumps(
        {"by": who.name, "report": "正在检查并重新训练……"}, ensure_ascii=False))
    task = asyncio.create_task(run())
    publishing = request.app[PUBLISHING]  # held, or the loop may drop the task half-way
    publishing.add(task)
    task.add_done_callback(publishing.discard)
    await services.accounts.audit(who.username, "catalogue.publish", "catalogue")
    raise web.HTTPFound("/console/catalogue")


PUBLISHING = web.AppKey("console_publishing", set[asyncio.Task[None]])
PUBLISH_LOCK_SECONDS = 3600  # a worker killed mid-training frees the lock after this


@page("supervisor", "admin", "director")
async def audit_page(request: web.Request, who: Who) -> web.Response:
    accounts = request.app[CONSOLE].accounts
    return render("audit.html", who, entries=await accounts.audit_log(),
                  names=await accounts.names())


async def close_streams(app: web.Application) -> None:
    app[SHUTTING_DOWN].set()


def setup_routes(app: web.Application) -> None:
    app[SHUTTING_DOWN] = asyncio.Event()
    app[PUBLISHING] = set()
    app.on_shutdown.append(close_streams)
    add = app.router
    add.add_get("/console/static/console.js", asset("console.js"))
    add.add_get("/console/login", login_page)
    add.add_post("/console/login", login)
    add.add_post("/console/logout", logout)
    add.add_get("/console", queue)
    add.add_get("/console/events", events)
    add.add_get("/console/handoffs", handoffs_page)
    add.add_get("/console/handoffs/{handoff_id}", handoff_page)
    add.add_get("/console/handoffs/{handoff_id}/files/{file_id}", handoff_file)
    add.add_get("/console/handoffs/{handoff_id}/files/{file_id}/view", handoff_file)
    add.add_post("/console/handoffs/{handoff_id}/claim", claim)
    add.add_post("/console/handoffs/{handoff_id}/reply", reply)
    add.add_post("/console/handoffs/{handoff_id}/close", close)
    add.add_get("/console/cases", cases_page)
    add.add_get("/console/cases/{receipt}", case_page)
    add.add_get("/console/cases/{receipt}/receipt", case_receipt)
    add.add_get("/console/cases/{receipt}/files/{file_id}", case_file)
    add.add_get("/console/cases/{receipt}/files/{file_id}/view", case_file)
    add.add_post("/console/cases/{receipt}/move", move_case)
    add.add_post("/console/cases/{receipt}/contact", contact)
    add.add_get("/console/today", today_page)
    add.add_get("/console/bookings", bookings_page)
    add.add_post("/console/bookings/{booking_no}/mark", mark_booking)
    add.add_post("/console/home-visits/{visit_no}/schedule", schedule_visit)
    add.add_get("/console/figures", figures_page)
    add.add_get("/console/figures.csv", figures_csv)
    add.add_get("/console/catalogue", catalogue_page)
    add.add_get("/console/catalogue/{matter_id}/notice", matter_notice)
    add.add_post("/console/catalogue/publish", publish)
    add.add_get("/console/audit", audit_page)
    setup_desk_routes(app)
    setup_agent_routes(app)
