"""Channel stage (staff): `/api/clerk/` — clerks list cases and move them along (JSON).

Authenticated with a bearer token per clerk, which carries the clerk's window:
CLERK_TOKENS="li:token,李四@civil:token,王主任@*:token". A name without @ is a console
account's username: the token has that account's role and window, and stops working when
the account is disabled (a name that is no account, the old format, reaches the general
desk only); `@window` gives a window id of catalogue/booking.yml, `@*` every window. A
clerk reads and moves their window's work and the general desk's (bot/web/windows.py):
another window's gets 403; directors read, and only clerks, supervisors and admins move.
Bodies are typed (bot/web/bodies.py). Every move is the case service's: the rules, the
history and the outbox event are there.

    GET  /api/clerk/cases?status=…&page=…     newest first, ID and phone masked; filtered
                                              as the console's search (bot/web/filters.py:
                                              receipt, name, id_number, phone, village,
                                              matter, status, from, to), paged (page,
                                              per_page ≤ 200; 50 a page), with the total
    GET  /api/clerk/cases/{receipt}           one case: checklist and history
    POST /api/clerk/cases/{receipt}/moves     {"to", "reason", "missing": [...], "result"}
    GET  /api/clerk/supervision               电子监察: cases at 80 % of their time, overdue

Times are ISO 8601 in China time (「2026-12-01T00:30:00+08:00」), as the clerk reads them.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aiohttp import web

from bot import chinatime
from bot.appointments.rules import BookingRules
from bot.cases.application import CaseError
from bot.cases.identity import mask_id_number, mask_phone
from bot.cases.service import CaseService
from bot.cases.status import Status
from bot.config import ConfigError
from bot.console.accounts import Accounts, Who
from bot.storage.finding import MAX_PAGE_SIZE
from bot.storage.tables import Case
from bot.web.bodies import BadBody, CaseMove, read_json
from bot.web.filters import case_query, page_number, page_size
from bot.web.windows import (
    GENERAL,
    MOVERS,
    OtherWindow,
    hidden_matters,
    matter_window,
    require,
)

CASES = web.AppKey("clerk_cases", CaseService)
RULES = web.AppKey("clerk_rules", BookingRules)  # whose window is what
MATTERS = web.AppKey("clerk_matters", frozenset)  # every matter id of the catalogue
TOKENS = web.AppKey("clerk_tokens", dict)  # token → TokenOwner
ACCOUNTS = web.AppKey("clerk_accounts", Accounts)  # the console's, for account tokens
EVERY_WINDOW = "*"

Handler = Callable[[web.Request, Who], Awaitable[web.Response]]


def json_response(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status,
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False,
                                                          default=_json_value))


def _json_value(value: object) -> str:
    return chinatime.local(value).isoformat() if isinstance(value, datetime) else str(value)


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """One CLERK_TOKENS entry: a name, and a window (None: the console account `name`)."""

    name: str
    window: str | None

    async def who(self, accounts: Accounts) -> Who | None:
        """The token's clerk now; None when its account is disabled."""
        if self.window == EVERY_WINDOW:
            return Who(self.name, self.name, "supervisor", None, "")
        if self.window is None and (account := await accounts.account(self.name)):
            clerk, active = account
            return clerk if active else None
        return Who(self.name, self.name, "clerk", self.window or GENERAL, "")


async def token_clerk(request: web.Request) -> Who | None:
    """The clerk whose bearer token the request carries, or None."""
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    found = None
    for token, owner in request.app[TOKENS].items():
        if given and hmac.compare_digest(given.encode(), token.encode()):
            found = owner
    return await found.who(request.app[ACCOUNTS]) if found else None


def authenticated(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The API's one boundary: a token (else 401); bad bodies 400, other windows 403."""

    async def checked(request: web.Request) -> web.Response:
        clerk = await token_clerk(request)
        if clerk is None:
            return json_response({"error": "请先登录（缺少或错误的令牌）"}, 401)
        if request.method == "POST" and clerk.role not in MOVERS:
            return json_response({"error": "您的角色不能做这件事"}, 403)
        try:
            return await handler(request, clerk)
        except BadBody as bad:
            return json_response({"error": f"请求格式不对：{bad}"}, 400)
        except OtherWindow as other:
            return json_response({"error": str(other)}, 403)

    return checked


def case_summary(case: Case, today: date) -> dict[str, Any]:
    status = Status(case.status)
    overdue = bool(case.due_date and case.due_date < today and not status.closed)
    return {
        "receipt_no": case.receipt_no, "matter": case.matter_id, "status": case.status,
        "status_label": status.label, "applicant": case.applicant_name,
        "id_number": mask_id_number(case.applicant_id_number), "phone": mask_phone(case.phone),
        "village": case.village, "agent": case.agent_name, "relation": case.relation,
        "accepted_at": case.accepted_at, "due_date": case.due_date,
        # The due date used the weekday rule: the year's holidays are not entered yet.
        "due_date_assumed": case.due_assumed, "overdue": overdue,
    }


def visible_matters(request: web.Request, clerk: Who) -> list[str] | None:
    """The matters whose cases `clerk` may see; None: all."""
    if clerk.windows is None:
        return None
    rules = request.app[RULES]
    return sorted(m for m in request.app[MATTERS] if clerk.sees(matter_window(rules, m)))


async def _case_for(request: web.Request, clerk: Who) -> Case:
    """The route's case, if `clerk`'s window has it (CaseError: none; OtherWindow)."""
    case = await request.app[CASES].get(request.match_info["receipt"])
    require(clerk, matter_window(request.app[RULES], case.matter_id), "办件")
    return case


@authenticated
async def list_cases(request: web.Request, clerk: Who) -> web.Response:
    """The console's search (bot/web/filters.py), a page at a time, with the count."""
    query = case_query(request.query, visible_matters(request, clerk))
    found = await request.app[CASES].search(query, page_number(request.query),
                                            page_size(request.query, MAX_PAGE_SIZE))
    today = request.app[CASES].today()
    return json_response({"cases": [case_summary(case, today) for case in found.items],
                          "page": found.number, "per_page": found.size,
                          "pages": found.pages, "total": found.total})


@authenticated
async def show_case(request: web.Request, clerk: Who) -> web.Response:
    try:
        case = await _case_for(request, clerk)
    except CaseError as missing:
        return json_response({"error": str(missing)}, 404)
    body = case_summary(case, request.app[CASES].today())
    body["materials"] = [{"name": m.name, "state": m.state, "file_id": m.file_id}
                         for m in case.materials]
    body["history"] = [{"from": c.from_status, "to": c.to_status, "by": c.actor,
                        "reason": c.reason, "missing": c.missing, "at": c.at}
                       for c in case.changes]
    return json_response(body)


@authenticated
async def move_case(request: web.Request, clerk: Who) -> web.Response:
    body = await read_json(request, CaseMove)
    try:
        await _case_for(request, clerk)
        case = await request.app[CASES].move(
            request.match_info["receipt"], body.to, clerk.name, reason=body.reason,
            missing=list(body.missing), result=body.result)
    except CaseError as refused:
        status = 404 if "没有这个受理编号" in str(refused) else 409
        return json_response({"error": str(refused)}, status)
    return json_response(case_summary(case, request.app[CASES].today()))


@authenticated
async def supervision(request: web.Request, clerk: Who) -> web.Response:
    today = request.app[CASES].today()
    warning, overdue = await request.app[CASES].supervision(today)
    hidden = set(hidden_matters(request.app[RULES], clerk))
    return json_response({"warning": [case_summary(c, today) for c in warning
                                      if c.matter_id not in hidden],
                          "overdue": [case_summary(c, today) for c in overdue
                                      if c.matter_id not in hidden]})


def parse_tokens(spec: str) -> dict[str, TokenOwner]:
    """CLERK_TOKENS "li:abc,王主任@*:def" → {"abc": account li, "def": 王主任, every window}."""
    tokens = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        who, _, token = entry.partition(":")
        name, at, window = who.partition("@")
        if not name or len(token) < 16 or (at and not window):
            raise ConfigError("CLERK_TOKENS", "每项写成 姓名@窗口:令牌（窗口写 booking.yml 的 "
                                              "id，所有窗口写 *），令牌至少16个字符")
        tokens[token] = TokenOwner(name, window or None)
    return tokens


def check_windows(tokens: dict[str, TokenOwner], rules: BookingRules) -> None:
    """ConfigError when CLERK_TOKENS names a window catalogue/booking.yml does not have."""
    if unknown := sorted({t.window for t in tokens.values() if t.window and t.window not in (
            GENERAL, EVERY_WINDOW) and rules.window(t.window) is None}):
        raise ConfigError("CLERK_TOKENS", "没有这个窗口（窗口 id 见 catalogue/booking.yml）",
                          ", ".join(unknown))


def setup_routes(app: web.Application, tokens: dict[str, TokenOwner]) -> None:
    app[TOKENS] = tokens
    app.router.add_get("/api/clerk/cases", list_cases)
    app.router.add_get("/api/clerk/cases/{receipt}", show_case)
    app.router.add_post("/api/clerk/cases/{receipt}/moves", move_case)
    app.router.add_get("/api/clerk/supervision", supervision)
