"""Dialogue stage, wiring: the Dialogue with its NLU, Redis, catalogue, center and cases.

Shared by the web service and `bot shell`. With REDIS_URL unset, Redis is an in-process
substitute (fakeredis), so `make run` needs no server; production sets REDIS_URL and every
worker shares the same conversations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases.intake import CaseIntake, MediaSource
from bot.cases.service import CaseService
from bot.catalogue.center import load_center
from bot.catalogue.loader import load_catalogue
from bot.config import Settings
from bot.dialogue.manager import Dialogue
from bot.dialogue.state import StateStore
from bot.nlu.understand import Understanding
from bot.storage.files import LocalFileStore
from bot.workdays import load_work_calendar


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    if settings.redis_url:
        redis: Redis = Redis.from_url(settings.redis_url, decode_responses=True,
                                      socket_timeout=2.0, socket_connect_timeout=2.0)
    else:
        from fakeredis import FakeAsyncRedis

        redis = FakeAsyncRedis(decode_responses=True)
    try:
        yield redis
    finally:
        await redis.aclose()


def build_dialogue(settings: Settings, understanding: Understanding, redis: Redis, *,
                   cases: CaseService | None = None,
                   media: MediaSource | None = None) -> Dialogue:
    """The dialogue; with `cases` it also takes applications and answers 「办到哪了」."""
    intake = CaseIntake(cases, LocalFileStore(settings.files_dir), media) if cases else None
    return Dialogue(understanding, StateStore(redis), load_catalogue(settings.catalogue_dir),
                    load_center(settings.catalogue_dir), intake=intake, cases=cases)


def build_case_service(settings: Settings,
                       sessions: async_sessionmaker[AsyncSession]) -> CaseService:
    return CaseService(sessions, load_catalogue(settings.catalogue_dir),
                       load_work_calendar(settings.catalogue_dir))
