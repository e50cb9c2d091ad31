"""Channel stage (operations): `/healthz`, `/readyz`, and a 503 when a backing service is down.

    /healthz   the process is alive and answering (a liveness probe: never touches a backend)
    /readyz    the database, Redis and the NLU service answer within READY_TIMEOUT; else 503
               naming each one that failed (a load balancer stops sending traffic here).
               Anyone may ask, so the answer is kept READY_CACHE seconds and shared: a flood
               of probes costs one round of checks (one Rasa parse among them) per period.

With Redis or the database unreachable mid-request, `unavailable` answers 503 — the
console's Chinese error page for /console, a short JSON error elsewhere — instead of a bare
500 with a traceback in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.nlu.understand import Understanding
from bot.web import console_base

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0
READY_CACHE = 2.0  # seconds an answer of /readyz is given again
UNAVAILABLE = "系统暂时连不上后台服务，请稍后再试"
# A backend that is down, as the drivers say it (refused, timed out). Not a reset: that is
# also how a browser leaving mid-response looks.
DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionRefusedError, TimeoutError)


@dataclass(frozen=True)
class Backends:
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    understanding: Understanding

    def checks(self) -> dict[str, Callable[[], Awaitable[object]]]:
        return {"database": self._database, "redis": self._redis, "nlu": self._nlu}

    async def _database(self) -> None:
        async with self.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def _redis(self) -> None:
        await self.redis.ping()

    async def _nlu(self) -> None:
        await self.understanding.understand("你好")


class Readiness:
    """The backends' last check, shared by the probes that come within READY_CACHE; a round
    under way is shared too, and no probe waits for it longer than READY_TIMEOUT + 1."""

    def __init__(self, backends: Backends) -> None:
        self._checks = backends.checks()
        self._checked_at = float("-inf")
        self._failed: list[str] = []
        self._round: asyncio.Task[None] | None = None

    async def failed(self) -> list[str]:
        if self._round is None and time.monotonic() - self._checked_at >= READY_CACHE:
            self._round = asyncio.create_task(self._check())
        if self._round is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._round), READY_TIMEOUT + 1)
            except TimeoutError:  # a check stuck past its own timeout: none is confirmed
                return list(self._checks)
        return self._failed

    async def _check(self) -> None:
        try:
            results = await asyncio.gather(*(_failed(c) for c in self._checks.values()))
            self._failed = [name for name, bad in zip(self._checks, results, strict=True)
                            if bad]
            self._checked_at = time.monotonic()
        finally:
            self._round = None


READINESS = web.AppKey("readiness", Readiness)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _failed(check: Callable[[], Awaitable[object]]) -> bool:
    try:
        await asyncio.wait_for(check(), READY_TIMEOUT)
    except Exception:  # any failure means "not ready"; the name of the check says which
        return True
    return False


async def readyz(request: web.Request) -> web.Response:
    failed = await request.app[READINESS].failed()
    body = {"status": "unavailable" if failed else "ready", "failed": failed}
    return web.json_response(body, status=503 if failed else 200)


def _is_down(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or isinstance(error.orig, DOWN)
    return isinstance(error, DOWN)


@web.middleware
async def unavailable(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
    try:
        return await handler(request)
    except (DBAPIError, *DOWN) as error:
        if not _is_down(error):
            raise
        # The route, not the path: a path may hold a secret (the SMS receipt URL's).
        log.warning("%s %s: backend unavailable (%s)", request.method,
                    request.match_info.route.resource.canonical
                    if request.match_info.route.resource else "-", type(error).__name__)
        if request.path.startswith("/console"):
            return console_base.render("error.html", None, 503, message=UNAVAILABLE)
        return web.json_response({"error": UNAVAILABLE}, status=503,
                                 dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.middlewares.append(unavailable)
