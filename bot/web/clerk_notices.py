"""Channel stage (staff): `/api/clerk/` for notices — what reached whom, what failed.

    GET  /api/clerk/notices?status=failed&user=…   notices with their delivery log
    POST /api/clerk/notices/{id}/retry             send a failed notice again
    POST /api/clerk/notice-preferences             {"key": openid or phone,
                                                    "mode": wechat_first | sms_only,
                                                    "opted_out": true | false}
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.cases.identity import mask_phone
from bot.notices.outbox import MODES, NoticeStore
from bot.storage.tables import Notice, NoticeAttempt
from bot.web.clerk_api import authenticated, json_response

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
async def list_notices(request: web.Request, clerk: str) -> web.Response:
    found = await request.app[NOTICES].listing(request.query.get("status"),
                                               request.query.get("user"))
    return json_response({"notices": [notice_summary(n, a) for n, a in found]})


@authenticated
async def retry_notice(request: web.Request, clerk: str) -> web.Response:
    try:
        notice_id = int(request.match_info["notice_id"])
    except ValueError:
        return json_response({"error": "通知编号应为数字"}, 400)
    if not await request.app[NOTICES].retry(notice_id):
        return json_response({"error": "没有这条失败的通知"}, 404)
    return json_response({"id": notice_id, "status": "pending"})


@authenticated
async def set_preference(request: web.Request, clerk: str) -> web.Response:
    try:
        body = await request.json()
        key, mode, opted_out = str(body["key"]), body.get("mode"), body.get("opted_out")
    except (ValueError, KeyError, TypeError):
        return json_response({"error": "格式:{\"key\", \"mode\"?, \"opted_out\"?}"}, 400)
    if (mode is not None and mode not in MODES) or not (
            opted_out is None or isinstance(opted_out, bool)):
        return json_response({"error": f"mode 应为 {sorted(MODES)}, opted_out 为 true/false"},
                             400)
    await request.app[NOTICES].set_preference(key, mode=mode, opted_out=opted_out)
    return json_response({"key": key, "mode": mode, "opted_out": opted_out})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/clerk/notices", list_notices)
    app.router.add_post("/api/clerk/notices/{notice_id}/retry", retry_notice)
    app.router.add_post("/api/clerk/notice-preferences", set_preference)
