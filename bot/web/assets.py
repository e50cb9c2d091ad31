"""Channel stage: the few static files of the console and the simulator, served from memory.

Each is read once. aiohttp's FileResponse kept a file open whenever a browser left the page
mid-download (the console reloads itself on every alert), until garbage collection closed
it; from memory there is no file to leave open.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
TYPES = {".js": "application/javascript", ".html": "text/html"}


@functools.cache
def _content(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def asset(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering with `static/<name>`."""

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=_content(name), content_type=TYPES[Path(name).suffix],
                            charset="utf-8", headers={"Cache-Control": "no-cache"})

    return serve
