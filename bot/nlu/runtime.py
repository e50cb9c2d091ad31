"""NLU stage, wiring: an Understanding connected to a live NLU service, for the web app and CLI.

With NLU_URL set the service is used as it is; otherwise a Rasa process is started from the
newest trained model on a free local port and stopped on exit.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from bot.catalogue.loader import load_catalogue
from bot.catalogue.model import Catalogue
from bot.config import Settings
from bot.nlu.matters import MatterResolver
from bot.nlu.service import NluProcess, NluServiceError
from bot.nlu.training import latest_model
from bot.nlu.understand import Understanding
from integrations.rasa import RasaClient

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def local_nlu_service(settings: Settings, port: int | None = None) -> AsyncIterator[str]:
    """Start Rasa from the newest model; yield its URL."""
    model = latest_model(settings.models_dir)
    if model is None:
        raise NluServiceError("没有训练好的 NLU 模型:请先运行 bot train")
    process = NluProcess(settings.nlu_python, model, port or free_port(), settings.nlu_token,
                         settings.nlu_log)
    await process.start()
    log.info("NLU service ready in %.1f s on %s", process.ready_seconds, process.url)
    try:
        yield process.url
    finally:
        await process.stop()


@asynccontextmanager
async def open_understanding(settings: Settings, port: int | None = None,
                             catalogue: Catalogue | None = None) -> AsyncIterator[Understanding]:
    """`catalogue`: the one the bot uses (admins' edits applied), else the files'."""
    resolver = MatterResolver(catalogue or load_catalogue(settings.catalogue_dir))
    async with aiohttp.ClientSession() as session:
        if settings.nlu_url:
            client = RasaClient(session, settings.nlu_url, settings.nlu_token,
                                timeout=settings.nlu_timeout)
            yield Understanding(client, resolver)
            return
        async with local_nlu_service(settings, port) as url:
            client = RasaClient(session, url, settings.nlu_token, timeout=settings.nlu_timeout)
            yield Understanding(client, resolver)
