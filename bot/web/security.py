"""Channel stage (every route): security headers on every response, NUL characters refused
in paths, queries and forms, and HTTPS and the client's address as seen behind a proxy.

The console's pages and the simulator load their scripts from files of this service
(/console/static/console.js, /simulator/app.js) and nothing from elsewhere, so the policy
allows scripts from this origin only; styles are inline <style> blocks. No page may be
framed. `Server:` names no versions.

Behind a reverse proxy that terminates HTTPS, TRUST_PROXY=1 lets the proxy's
`X-Forwarded-Proto: https` count as HTTPS (the console's cookie is then `Secure`) and the
last address of its `X-Forwarded-For` be the client's (login lockout by address, the SMS
receipt allow-list); leave it off when clients reach the service directly, or anyone could
claim either.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.web.bodies import NUL_REFUSED

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Server": "bianmin-bot",  # aiohttp's default names its own and Python's versions
}
log = logging.getLogger(__name__)
TRUST_PROXY = web.AppKey("trust_proxy", bool)
WARNED = web.AppKey("security_warned", set[str])  # warnings given once (per app)
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(HEADERS)


def is_https(request: web.Request) -> bool:
    """The request came over HTTPS: directly, or through a trusted proxy that says so."""
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.app.get(TRUST_PROXY, False) and forwarded == "https"


def client_address(request: web.Request) -> str:
    """Who sent the request: the peer, or behind a trusted proxy the address it saw (the
    last one of X-Forwarded-For: earlier ones are whatever the client wrote)."""
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
    if request.app.get(TRUST_PROXY, False) and forwarded:
        return forwarded
    warned = request.app.get(WARNED)
    if forwarded and warned is not None and "untrusted proxy" not in warned:
        warned.add("untrusted proxy")  # once per app: to be read, not to fill the log
        log.warning("requests carry X-Forwarded-For but TRUST_PROXY is off: if a proxy of "
                    "yours sends them, every client looks like the proxy, and wrong passwords "
                    "from any one of them lock logins for all (set TRUST_PROXY=1)")
    return request.remote or "unknown"


@web.middleware
async def refuse_nul(request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """A NUL character in a path, a query or a form's text is refused here, at the door:
    PostgreSQL cannot keep one in text, so deeper in it would be a 500. JSON bodies are
    checked by their models (bot/web/bodies.py)."""
    values = [request.path, *request.query.keys(), *request.query.values()]
    if request.method == "POST" and request.content_type in FORMS:
        form = await request.post()  # kept by aiohttp: the handler reads the same
        values += [*form.keys(), *(v for v in form.values() if isinstance(v, str))]
    if not any("\x00" in value for value in values):
        return await handler(request)
    if request.path.startswith("/console"):
        return web.Response(text=f"填写的内容{NUL_REFUSED}", status=400)
    return web.json_response({"error": NUL_REFUSED}, status=400,
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def setup(app: web.Application, trust_proxy: bool) -> None:
    app[TRUST_PROXY] = trust_proxy
    app[WARNED] = set()
    app.middlewares.append(refuse_nul)
    app.on_response_prepare.append(add_headers)
