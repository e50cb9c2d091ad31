"""Channel stage (staff): `/api/clerk/` — clerks list cases and move them along (JSON).

Authenticated with a bearer token per clerk (CLERK_TOKENS="李四:token,王五:token"); the
console with logins and roles comes with the clerks' issue. Every move is the case
service's: the rules, the history and the outbox event are there.

    GET  /api/clerk/cases?status=…            newest first, ID and phone masked
    GET  /api/clerk/cases/{receipt}           one case: checklist and history
    POST /api/clerk/cases/{receipt}/moves     {"to", "reason", "missing": [...], "result"}
    GET  /api/clerk/supervision               电子监察: cases at 80 % of their time, overdue

Times are ISO 8601 in China time (「2026-12-01T00:30:00+08:00」), as the clerk reads them.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from aiohttp import web

from bot import chinatime
from bot.cases.application import CaseError
from bot.cases.identity import mask_id_number, mask_phone
from bot.cases.service import CaseService
from bot.cases.status import Status
from bot.storage.tables import Case

CASES = web.AppKey("clerk_cases", CaseService)
TOKENS = web.AppKey("clerk_tokens", dict)  # token → clerk name

Handler = Callable[[web.Request, str], Awaitable[web.Response]]


def json_response(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status,
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False,
                                                          default=_json_value))


def _json_value(value: object) -> str:
    return chinatime.local(value).isoformat() if isinstance(value, datetime) else str(value)


def _clerk(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    for token, name in request.app[TOKENS].items():
        if given and hmac.compare_digest(given, token):
            return str(name)
    return None


def authenticated(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def checked(request: web.Request) -> web.Response:
        clerk = _clerk(request)
        if clerk is None:
            return json_response({"error": "请先登录（缺少或错误的令牌）"}, 401)
        return await handler(request, clerk)

    return checked


def case_summary(case: Case, today: date) -> dict[str, Any]:
    status = Status(case.status)
    overdue = bool(case.due_date and case.due_date < today and not status.closed)
    return {
        "receipt_no": case.receipt_no, "matter": case.matter_id, "status": case.status,
        "status_label": status.label, "applicant": case.applicant_name,
        "id_number": mask_id_number(case.applicant_id_number), "phone": mask_phone(case.phone),
        "village": case.village, "agent": case.agent_name,
        "accepted_at": case.accepted_at, "due_date": case.due_date,
        # The due date used the weekday rule: the year's holidays are not entered yet.
        "due_date_assumed": case.due_assumed, "overdue": overdue,
    }


@authenticated
async def list_cases(request: web.Request, clerk: str) -> web.Response:
    raw = request.query.get("status")
    try:
        status = Status(raw) if raw else None
    except ValueError:
        return json_response({"error": f"没有这个状态：{raw}"}, 400)
    cases = await request.app[CASES].list_cases(status)
    today = request.app[CASES].today()
    return json_response({"cases": [case_summary(case, today) for case in cases]})


@authenticated
async def show_case(request: web.Request, clerk: str) -> web.Response:
    try:
        case = await request.app[CASES].get(request.match_info["receipt"])
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
async def move_case(request: web.Request, clerk: str) -> web.Response:
    try:
        body = await request.json()
        target = Status(body["to"])
        missing = [str(item) for item in body.get("missing", [])]
    except (ValueError, KeyError, TypeError):
        return json_response(
            {"error": "格式:{\"to\": 状态, \"reason\": …, \"missing\": [...]}"}, 400)
    cases = request.app[CASES]
    try:
        case = await cases.move(request.match_info["receipt"], target, clerk,
                                reason=str(body.get("reason", "")), missing=missing,
                                result=body.get("result"))
    except CaseError as refused:
        status = 404 if "没有这个受理编号" in str(refused) else 409
        return json_response({"error": str(refused)}, status)
    return json_response(case_summary(case, cases.today()))


@authenticated
async def supervision(request: web.Request, clerk: str) -> web.Response:
    today = request.app[CASES].today()
    warning, overdue = await request.app[CASES].supervision(today)
    return json_response({"warning": [case_summary(c, today) for c in warning],
                  "overdue": [case_summary(c, today) for c in overdue]})


def parse_tokens(spec: str) -> dict[str, str]:
    """CLERK_TOKENS "李四:abc,王五:def" → {"abc": "李四", "def": "王五"}."""
    tokens = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, _, token = entry.partition(":")
        if not name or len(token) < 16:
            raise ValueError("CLERK_TOKENS：每项写成 姓名:令牌，令牌至少16个字符")
        tokens[token] = name
    return tokens


def setup_routes(app: web.Application, tokens: dict[str, str]) -> None:
    app[TOKENS] = tokens
    app.router.add_get("/api/clerk/cases", list_cases)
    app.router.add_get("/api/clerk/cases/{receipt}", show_case)
    app.router.add_post("/api/clerk/cases/{receipt}/moves", move_case)
    app.router.add_get("/api/clerk/supervision", supervision)
