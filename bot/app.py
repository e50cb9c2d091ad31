"""The app factory: the bot's web service, read top to bottom as a table of contents.

Resources are cleanup_ctx generators behind typed AppKeys, created at start-up and closed
at shutdown; nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.config import Settings
from bot.nlu.runtime import open_understanding
from bot.web import nlu_api

SETTINGS = web.AppKey("settings", Settings)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def nlu_context(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        async with open_understanding(settings, settings.nlu_port) as understanding:
            app[nlu_api.UNDERSTANDING] = understanding
            yield

    return context


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=nlu_api.MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(nlu_context(settings))
    app.router.add_get("/healthz", health)
    nlu_api.setup_routes(app)
    return app
