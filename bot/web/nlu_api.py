"""Channel stage (web API): `POST /api/nlu/parse` answers what the NLU makes of one question.

Same JSON as `bot parse`. Used by staff to check the NLU and by the console later.
"""

from __future__ import annotations

import json

from aiohttp import web

from bot.nlu.understand import Understanding
from integrations.errors import IntegrationError

UNDERSTANDING = web.AppKey("understanding", Understanding)
MAX_BODY_BYTES = 64 * 1024  # for every request: WeChat pushes and questions are a few KB


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status,
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


async def parse_question(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _error(413, "内容太长,请只发一个问题")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "请求格式不对:需要 JSON,例如 {\"text\": \"低保要带啥\"}")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return _error(400, "缺少 text 字段(要问的问题)")
    try:
        result = await request.app[UNDERSTANDING].understand(text)
    except IntegrationError:
        return _error(503, "系统繁忙,请稍后再试")
    return web.json_response(result.to_json(),
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/nlu/parse", parse_question)
