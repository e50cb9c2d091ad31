"""Dialogue stage, wiring: the Dialogue with its NLU, Redis, catalogue, center, cases and
appointments.

Shared by the web service and `bot shell`. With REDIS_URL unset, Redis is an in-process
substitute (fakeredis), so `make run` needs no server; production sets REDIS_URL and every
worker shares the same conversations.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.agents.consent import ConsentCodes
from bot.agents.service import AgentService
from bot.appointments.home_visits import HomeVisitService
from bot.appointments.rules import load_booking_rules
from bot.appointments.service import BookingService
from bot.cases.intake import CaseIntake, MediaSource
from bot.cases.service import CaseService
from bot.catalogue.center import load_center
from bot.catalogue.loader import load_catalogue
from bot.catalogue.menu import load_menu
from bot.catalogue.model import Catalogue
from bot.catalogue.outside import load_outside
from bot.catalogue.topics import load_topics
from bot.config import Settings
from bot.dialogue.manager import Dialogue
from bot.dialogue.services import HandoffDesk, Preferences, ReviewDesk, Voice
from bot.dialogue.state import StateStore
from bot.flows.booking import Appointments
from bot.handoff.service import HandoffService
from bot.nlu.understand import Understanding
from bot.notices.rules import fill, load_notice_rules
from bot.notices.sms_text import room, split_for_sms
from bot.security.lockout import AGENT_CODE, RECEIPT, Audit, Lockout
from bot.storage import keys
from bot.storage.files import FileStore, LocalFileStore, ObjectFileStore
from bot.workdays import load_work_calendar
from integrations.asr import Recognizer
from integrations.asr.aliyun import DEFAULT_ENDPOINT as ALIYUN_ASR
from integrations.asr.aliyun import AliyunAsr
from integrations.asr.tencent import DEFAULT_ENDPOINT as TENCENT_ASR
from integrations.asr.tencent import TencentAsr
from integrations.nls import DEFAULT_TOKEN_ENDPOINT as ALIYUN_TOKEN
from integrations.object_store import S3ObjectStore
from integrations.tts import Synthesizer
from integrations.tts.aliyun import DEFAULT_ENDPOINT as ALIYUN_TTS
from integrations.tts.aliyun import DEFAULT_VOICE as ALIYUN_VOICE
from integrations.tts.aliyun import AliyunTts
from integrations.tts.tencent import DEFAULT_ENDPOINT as TENCENT_TTS
from integrations.tts.tencent import DEFAULT_VOICE as TENCENT_VOICE
from integrations.tts.tencent import TencentTts

WeComPost = Callable[[str], Awaitable[None]]


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


@asynccontextmanager
async def open_file_store(settings: Settings) -> AsyncIterator[FileStore]:
    """Uploads: an S3-compatible object store when FILES_S3_URL is set, else a directory."""
    if not settings.files_s3_url:
        yield LocalFileStore(settings.files_dir)
        return
    location = urlsplit(settings.files_s3_url)
    store = S3ObjectStore(location.netloc, location.path, settings.files_s3_endpoint,
                          str(settings.files_s3_key or ""), str(settings.files_s3_secret or ""),
                          settings.files_s3_region)
    async with store:
        yield ObjectFileStore(store)


def build_recognizer(settings: Settings, session: aiohttp.ClientSession) -> Recognizer | None:
    """Speech recognition by ASR_PROVIDER; None: WeChat's own Recognition only."""
    key_id, secret = settings.asr_key_id or "", str(settings.asr_secret or "")
    if settings.asr_provider == "tencent":
        return TencentAsr(session, key_id, secret, settings.asr_engine,
                          settings.asr_endpoint or TENCENT_ASR)
    if settings.asr_provider == "aliyun":
        return AliyunAsr(session, key_id, secret, settings.asr_app_key or "",
                         settings.asr_endpoint or ALIYUN_ASR,
                         settings.asr_token_endpoint or ALIYUN_TOKEN)
    return None


def build_synthesizer(settings: Settings,
                      session: aiohttp.ClientSession) -> Synthesizer | None:
    """Speech synthesis by TTS_PROVIDER; None: nothing is read aloud."""
    key_id, secret = settings.tts_key_id or "", str(settings.tts_secret or "")
    if settings.tts_provider == "tencent":
        return TencentTts(session, key_id, secret, settings.tts_voice or TENCENT_VOICE,
                          settings.tts_endpoint or TENCENT_TTS)
    if settings.tts_provider == "aliyun":
        return AliyunTts(session, key_id, secret, settings.tts_app_key or "",
                         settings.tts_voice or ALIYUN_VOICE, settings.tts_endpoint or ALIYUN_TTS,
                         settings.tts_token_endpoint or ALIYUN_TOKEN)
    return None


def build_dialogue(settings: Settings, understanding: Understanding, redis: Redis, *,
                   cases: CaseService | None = None, files: FileStore | None = None,
                   media: MediaSource | None = None, recognizer: Recognizer | None = None,
                   appointments: Appointments | None = None,
                   preferences: Preferences | None = None,
                   handoffs: HandoffDesk | None = None,
                   audit: Audit | None = None,
                   review: ReviewDesk | None = None,
                   catalogue: Catalogue | None = None,
                   voice: Voice | None = None,
                   agents: AgentService | None = None) -> Dialogue:
    """The dialogue; with `cases` it also takes applications and answers 「办到哪了」 (by
    receipt number too, given the `audit` log its lockouts write to), with `appointments`
    it books window times and home visits; with `review` the questions it did not answer
    are noted for the clerks to teach it; with `voice` it reads answers aloud when asked;
    with `agents` (and `audit`) village agents bind and file for villagers.
    `catalogue`: the one with the admins' edits
    (bot/catalogue/editing.py), else the files'."""
    store = files or LocalFileStore(settings.files_dir)
    catalogue = catalogue or load_catalogue(settings.catalogue_dir)
    villages = tuple(appointments.bookings.rules.home_visit.villages()) if appointments else ()
    consent = ConsentCodes(redis, agents.sessions) if agents else None
    center = load_center(settings.catalogue_dir)
    intake = CaseIntake(cases, store, media, recognizer, villages, agents, consent,
                        center_phone=center.phone) if cases else None
    guesses = Lockout(redis, RECEIPT, audit) if audit else None
    agent_codes = Lockout(redis, AGENT_CODE, audit) if audit and agents else None
    return Dialogue(understanding, StateStore(redis, settings.transcript_days),
                    catalogue, center, intake=intake, cases=cases,
                    appointments=appointments, preferences=preferences, handoffs=handoffs,
                    receipt_guesses=guesses, outside=load_outside(settings.catalogue_dir),
                    review=review, menu=load_menu(settings.catalogue_dir), voice=voice,
                    topics=load_topics(settings.catalogue_dir, catalogue),
                    agents=agents if agent_codes else None, agent_codes=agent_codes)


def build_case_service(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                       clock: Callable[[], datetime] | None = None,
                       catalogue: Catalogue | None = None) -> CaseService:
    return CaseService(sessions, catalogue or load_catalogue(settings.catalogue_dir),
                       load_work_calendar(settings.catalogue_dir), clock or chinatime.now)


def build_appointments(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                       clock: Callable[[], datetime] | None = None) -> Appointments:
    """Window bookings and home visits, on the center's rules (catalogue/booking.yml)."""
    catalogue = load_catalogue(settings.catalogue_dir)
    rules = load_booking_rules(settings.catalogue_dir, frozenset(m.id for m in catalogue))
    calendar = load_work_calendar(settings.catalogue_dir)
    bookings = BookingService(sessions, calendar, rules, clock) if clock else \
        BookingService(sessions, calendar, rules)
    center = load_center(settings.catalogue_dir)
    return Appointments(bookings, HomeVisitService(bookings), center.phone,
                        hours_to_confirm=center.to_confirm)


ALERT_WORDS = {"handoff.opened": "新的人工请求", "handoff.escalated": "人工请求超时未接手"}


def build_handoffs(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                   redis: Redis, appointments: Appointments, post: WeComPost | None = None,
                   clock: Callable[[], datetime] | None = None) -> HandoffService:
    """转人工: windows from booking.yml, office hours from its general window; alerts go to
    the consoles (Redis pub/sub) and, when configured, to the clerks' WeCom group."""
    rules = appointments.bookings.rules
    general = rules.window("general")
    office = [(s.start, s.end) for s in (general.sessions if general else ())
              if s.kind == "regular" and s.days == "workdays"] or [(time(9), time(12)),
                                                                    (time(13), time(17))]

    def window_for(matter_id: str | None) -> str:
        window = rules.window_for(matter_id or "")
        return window.id if window else "general"

    async def alert(what: dict[str, Any]) -> None:
        await redis.publish(keys.CONSOLE_ALERTS, json.dumps(what, ensure_ascii=False))
        if post is not None and what["type"] in ALERT_WORDS:
            await post(f"{ALERT_WORDS[what['type']]} #{what['id']}，请到工作台处理。")

    calendar = load_work_calendar(settings.catalogue_dir)
    names = {w.id: w.name for w in rules.windows}
    minutes = settings.handoff_answer_minutes
    notices = load_notice_rules(settings.catalogue_dir)
    reply = notices.templates.get("handoff.reply")

    def sms_parts(text: str, clerk_name: str) -> list[str]:
        fixed = fill(reply.sms, {"agent": clerk_name}) if reply else ""
        return split_for_sms([text], room(notices.sign_name, fixed))

    return HandoffService(sessions, calendar, office, window_for, names, alert,
                          clock or chinatime.now, minutes, sms_parts)
