"""Channel stage (every route): security headers on every response, and HTTPS as seen
behind a proxy.

The console's pages and the simulator load their scripts from files of this service
(/console/static/console.js, /simulator/app.js) and nothing from elsewhere, so the policy
allows scripts from this origin only; styles are inline <style> blocks. No page may be
framed. `Server:` names no versions.

Behind a reverse proxy that terminates HTTPS, TRUST_FORWARDED_PROTO=1 lets the proxy's
`X-Forwarded-Proto: https` count as HTTPS (the console's cookie is then `Secure`); leave it
off when clients reach the service directly, or anyone could claim it.
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
TRUST_FORWARDED_PROTO = web.AppKey("trust_forwarded_proto", bool)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(HEADERS)


def is_https(request: web.Request) -> bool:
    """The request came over HTTPS: directly, or through a trusted proxy that says so."""
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.app[TRUST_FORWARDED_PROTO] and forwarded == "https"


def setup(app: web.Application, trust_forwarded_proto: bool) -> None:
    app[TRUST_FORWARDED_PROTO] = trust_forwarded_proto
    app.on_response_prepare.append(add_headers)
