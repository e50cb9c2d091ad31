"""Channel stage: SMS delivery receipts pushed by the providers (回执).

    POST /sms/receipts/aliyun   [{"biz_id", "success", "err_code", …}]  → {"code": 0}
    POST /sms/receipts/tencent  [{"sid", "report_status", "errmsg", …}] → {"result": 0}

Providers push receipts again when they are not acknowledged, and sometimes twice anyway:
each is recorded once on the attempt it belongs to (bot/notices/outbox.py). A receipt for
a message we do not know is acknowledged and ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.notices.outbox import NoticeStore

log = logging.getLogger(__name__)
RECEIPTS = web.AppKey("sms_receipts", NoticeStore)
MAX_BODY = 256 * 1024


async def _items(request: web.Request) -> list[dict[str, Any]] | None:
    if (request.content_length or 0) > MAX_BODY:
        return None
    try:
        body = await request.json()
    except ValueError:
        return None
    items = body if isinstance(body, list) else [body]
    return [item for item in items if isinstance(item, dict)]


async def aliyun(request: web.Request) -> web.Response:
    items = await _items(request)
    if items is None:
        return web.json_response({"code": 1, "msg": "格式错误"}, status=400)
    for item in items:
        await request.app[RECEIPTS].receipt("aliyun", str(item.get("biz_id", "")),
                                            bool(item.get("success")), str(item.get("err_code",
                                                                                    "")))
    return web.json_response({"code": 0, "msg": "成功"})


async def tencent(request: web.Request) -> web.Response:
    items = await _items(request)
    if items is None:
        return web.json_response({"result": 1, "errmsg": "bad request"}, status=400)
    for item in items:
        await request.app[RECEIPTS].receipt("tencent", str(item.get("sid", "")),
                                            item.get("report_status") == "SUCCESS",
                                            str(item.get("errmsg", "")))
    return web.json_response({"result": 0, "errmsg": "OK"})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/sms/receipts/aliyun", aliyun)
    app.router.add_post("/sms/receipts/tencent", tencent)
