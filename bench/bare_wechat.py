"""The ceiling for bench/wechat.py: an aiohttp handler that only checks the signature, parses
the WeChat XML with wechatpy and answers a fixed text reply. Usage: bare_wechat.py PORT TOKEN"""

import hashlib
import hmac
import sys

from aiohttp import web
from wechatpy import parse_message
from wechatpy.replies import TextReply


def create_app(token: str) -> web.Application:
    async def wechat(request: web.Request) -> web.Response:
        query = request.query
        expected = hashlib.sha1("".join(sorted(
            [token, query.get("timestamp", ""), query.get("nonce", "")])).encode()).hexdigest()
        if not hmac.compare_digest(expected, query.get("signature", "")):
            return web.Response(status=403)
        message = parse_message(await request.text())
        reply = TextReply(source=message.target, target=message.source, content="收到")
        return web.Response(text=reply.render(), content_type="application/xml")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/wechat", wechat)
    app.router.add_get("/healthz", health)
    return app


if __name__ == "__main__":
    web.run_app(create_app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), print=None,
                access_log=None)
