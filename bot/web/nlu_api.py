"""Channel stage (web API): `POST /api/nlu/parse` answers what the NLU makes of one question.

Same JSON as `bot parse`. For staff checking the NLU: a clerk API token (Bearer) or a
console session is required (401 without), and each caller may ask NLU_PARSE_PER_MINUTE
questions a minute (429 beyond, counted in Redis so every worker shares the count).
"""

from __future__ import annotations

import json

from aiohttp import web

from bot.nlu.understand import Understanding
from bot.storage import keys
from bot.web.clerk_api import token_clerk
from bot.web.console_base import CONSOLE, COOKIE
from integrations.errors import IntegrationError

UNDERSTANDING = web.AppKey("understanding", Understanding)
PER_MINUTE = web.AppKey("nlu_parse_per_minute", int)
MAX_BODY_BYTES = 64 * 1024  # for every request: WeChat pushes and questions are a few KB
RATE_KEY = keys.NLU_RATE


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status,
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


async def caller(request: web.Request) -> str | None:
    """Who asks: a clerk API token's clerk or a console login; None: nobody known."""
    clerk = await token_clerk(request)
    if clerk is not None:
        return f"token:{clerk.name}"
    console = request.app[CONSOLE]
    who = await console.accounts.who(request.cookies.get(COOKIE, ""))
    return f"console:{who.username}" if who else None


async def over_limit(request: web.Request, who: str) -> bool:
    """Count one question of `who` in their minute (their first question starts it); True
    past the limit. One transaction: the minute cannot run out between the two steps."""
    key = RATE_KEY.format(caller=who)
    async with request.app[CONSOLE].redis.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=60, nx=True)
        pipe.incr(key)
        _, asked = await pipe.execute()
    return int(asked) > request.app[PER_MINUTE]


async def parse_question(request: web.Request) -> web.Response:
    who = await caller(request)
    if who is None:
        return _error(401, "请先登录（需要工作人员令牌或工作台登录）")
    if await over_limit(request, who):
        return _error(429, "查询太频繁，请一分钟后再试")
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


def setup_routes(app: web.Application, per_minute: int) -> None:
    app[PER_MINUTE] = per_minute
    app.router.add_post("/api/nlu/parse", parse_question)
