"""Channel stage (every route): security headers on every response, and HTTPS and the
client's address as seen behind a proxy.

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

from aiohttp import web

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
TRUST_PROXY = web.AppKey("trust_proxy", bool)


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
    return request.remote or "unknown"


def setup(app: web.Application, trust_proxy: bool) -> None:
    app[TRUST_PROXY] = trust_proxy
    app.on_response_prepare.append(add_headers)
