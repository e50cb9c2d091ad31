"""Outbound: a WeCom (企业微信) group robot, for alerting the clerks' group chat.

POST {"msgtype": "text", "text": {"content": …}} to the robot's webhook address
(群机器人 › 消息推送); it answers {"errcode": 0, "errmsg": "ok"}.
"""

from __future__ import annotations

import aiohttp

from integrations.errors import IntegrationError, ServiceUnavailable

PROVIDER = "wecom"


async def post_text(session: aiohttp.ClientSession, webhook: str, content: str) -> None:
    try:
        async with session.post(webhook, json={"msgtype": "text", "text": {"content": content}},
                                timeout=aiohttp.ClientTimeout(total=5)) as response:
            if response.status >= 500:
                raise ServiceUnavailable(PROVIDER, response.status, "server error")
            body = await response.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise ServiceUnavailable(PROVIDER, "unreachable", type(exc).__name__) from exc
    if int(body.get("errcode", 0) or 0):
        raise IntegrationError(PROVIDER, body.get("errcode"), str(body.get("errmsg", "")))
