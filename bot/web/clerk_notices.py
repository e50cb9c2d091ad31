"""Channel stage (staff): `/api/clerk/` for notices — what reached whom, what failed.

    GET  /api/clerk/notices?status=failed&user=…   notices with their delivery log
    POST /api/clerk/notices/{id}/retry             send a failed notice again
    POST /api/clerk/notice-preferences             {"key": openid or phone,
                                                    "mode": wechat_first | sms_only,
                                                    "opted_out": true | false}

A notice belongs to the window of the matter its event is about: a clerk lists and retries
their window's (and those about no window's matter); another window's retry gets 403.
A villager's preference belongs to no window: any clerk may set it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.cases.identity import mask_phone
from bot.console.accounts import Who
from bot.notices.outbox import NoticeStore
from bot.storage.tables import Notice, NoticeAttempt
from bot.web.bodies import Preference, read_json, row_id
from bot.web.clerk_api import RULES, authenticated, json_response
from bot.web.windows import hidden_matters, matter_window, require

NOTICES = web.AppKey("clerk_notices", NoticeStore)


def notice_summary(notice: Notice, attempts: list[NoticeAttempt]) -> dict[str, Any]:
    return {"id": notice.id, "kind": notice.kind, "status": notice.status,
            "text": notice.text, "phone": mask_phone(notice.phone) if notice.phone else None,
            "wechat": bool(notice.openid), "sent_via": notice.sent_via,
            "attempts": notice.attempts, "next_at": notice.next_at, "sent_at": notice.sent_at,
            "last_error": notice.last_error,
            "log": [{"at": a.at, "channel": a.channel, "provider": a.provider,
                     "outcome": a.outcome, "code": a.code, "detail": a.detail,
                     "message_id": a.message_id, "receipt": a.receipt,
                     "receipt_at": a.receipt_at} for a in attempts]}


@authenticated
async def list_notices(request: web.Request, clerk: Who) -> web.Response:
    found = await request.app[NOTICES].listing(
        request.query.get("status"), request.query.get("user"),
        hidden_matters=hidden_matters(request.app[RULES], clerk))
    return json_response({"notices": [notice_summary(n, a) for n, a in found]})


@authenticated
async def retry_notice(request: web.Request, clerk: Who) -> web.Response:
    raw, notices = request.match_info["notice_id"], request.app[NOTICES]
    if not raw.isdecimal():
        return json_response({"error": "通知编号应为数字"}, 400)
    notice_id = row_id(raw)
    if notice_id is None:
        return json_response({"error": "没有这条失败的通知"}, 404)
    require(clerk, matter_window(request.app[RULES], await notices.matter_of(notice_id)),
            "通知")
    if not await notices.retry(notice_id):
        return json_response({"error": "没有这条失败的通知"}, 404)
    return json_response({"id": notice_id, "status": "pending"})


@authenticated
async def set_preference(request: web.Request, clerk: Who) -> web.Response:
    body = await read_json(request, Preference)
    await request.app[NOTICES].set_preference(body.key, mode=body.mode,
                                              opted_out=body.opted_out)
    return json_response({"key": body.key, "mode": body.mode, "opted_out": body.opted_out})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/clerk/notices", list_notices)
    app.router.add_post("/api/clerk/notices/{notice_id}/retry", retry_notice)
    app.router.add_post("/api/clerk/notice-preferences", set_preference)
