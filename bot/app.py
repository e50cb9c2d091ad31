"""The app factory: the bot's web service, read top to bottom as a table of contents.

    /wechat            the official account's endpoint          bot/channels/wechat.py
    /simulator         a phone-like page posting signed XML      bot/web/simulator.py
    /sms/receipts/…    SMS delivery receipts (Aliyun, Tencent)   bot/channels/sms_receipts.py
    /sms/uplink/…      villagers' SMS, answered by SMS            bot/channels/sms.py
    /api/nlu/parse     what the NLU makes of one question (token) bot/web/nlu_api.py
    /console/…         the clerks' console (login, handoffs…)    bot/web/console.py
    /api/clerk/…       clerks list and move cases (token)        bot/web/clerk_api.py
                       day views of bookings, home visits         bot/web/clerk_appointments.py
                       notices and their delivery log             bot/web/clerk_notices.py
    /healthz, /readyz  alive; database, Redis and NLU reachable     bot/web/health.py

Resources are opened once in `services` (a cleanup_ctx) in pipeline order — NLU, Redis,
WeChat API (a local fake when no credentials are set), database (migrated on start),
appointments, notices (and an in-process notice worker unless NOTICE_WORKER=0), dialogue,
channel — and closed in reverse; nothing is built at import time.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, time, timedelta

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.agents.service import AgentService
from bot.appointments.rules import load_booking_rules
from bot.appointments.service import BookingService
from bot.cases.service import CaseService
from bot.catalogue.center import load_center
from bot.catalogue.editing import CatalogueEditor
from bot.catalogue.menu import load_menu
from bot.catalogue.model import Catalogue
from bot.catalogue.reading import CatalogueError
from bot.catalogue.revisions import MatterRevisions
from bot.channels import sms, sms_receipts
from bot.channels.wechat import WeChatWebhook
from bot.channels.wechat_protocol import WeChatConfig
from bot.chinatime import CHINA, local
from bot.config import Settings
from bot.console.accounts import Accounts
from bot.dialogue.runtime import (
    WeComPost,
    build_appointments,
    build_case_service,
    build_dialogue,
    build_handoffs,
    build_recognizer,
    build_synthesizer,
    open_file_store,
    open_redis,
)
from bot.dialogue.state import StateStore
from bot.flows.booking import Appointments
from bot.handoff.replies import SavedReplies
from bot.handoff.service import HandoffService
from bot.nlu.runtime import open_understanding
from bot.nlu.training import Trainer
from bot.notices.replies import SmsReplies
from bot.notices.rules import load_notice_rules
from bot.notices.runtime import build_notice_store, build_notice_worker
from bot.review.service import ReviewService, Taught
from bot.security.audit import AuditLog
from bot.storage.db import open_database
from bot.storage.files import FileStore
from bot.voice import VoiceMaker, VoiceNotices, VoicePreferences
from bot.web import (
    clerk_api,
    clerk_appointments,
    clerk_notices,
    console,
    console_base,
    console_teaching,
    health,
    nlu_api,
    security,
    simulator,
)
from integrations import wecom
from integrations.asr import Recognizer
from integrations.asr.tencent import TencentAsr
from integrations.fakes.asr import KEY_ID as FAKE_KEY
from integrations.fakes.asr import SECRET as FAKE_SECRET
from integrations.fakes.asr import start_fake_asr
from integrations.fakes.tts import start_fake_tts
from integrations.fakes.wechat_api import start_fake_wechat
from integrations.tts import Synthesizer
from integrations.tts.tencent import DEFAULT_VOICE as TENCENT_VOICE
from integrations.tts.tencent import TencentTts
from integrations.wechat_api import DEFAULT_API_BASE, WeChatApi

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
Clock = Callable[[], datetime]
WEBHOOK = web.AppKey("webhook", WeChatWebhook)


async def speech(settings: Settings, app: web.Application, stack: AsyncExitStack,
                 session: aiohttp.ClientSession) -> tuple[Recognizer | None, Synthesizer | None]:
    """Speech recognition and synthesis as configured; for the simulator on the fake WeChat
    API (`make run`), local fakes of Tencent's stand in for those not configured: a voice
    message is heard as the words typed, an answer read aloud is real audio."""
    recognizer, synthesizer = build_recognizer(settings, session), \
        build_synthesizer(settings, session)
    if not (settings.simulator and simulator.FAKE_WECHAT_URL in app):
        return recognizer, synthesizer
    if recognizer is None:
        heard = await stack.enter_async_context(start_fake_asr())
        app[simulator.FAKE_ASR] = heard.state
        recognizer = TencentAsr(session, FAKE_KEY, FAKE_SECRET, settings.asr_engine,
                                heard.tencent_endpoint)
    if synthesizer is None:
        spoken = await stack.enter_async_context(start_fake_tts())
        synthesizer = TencentTts(session, FAKE_KEY, FAKE_SECRET, TENCENT_VOICE,
                                 spoken.tencent_endpoint)
    return recognizer, synthesizer


def services(settings: Settings, clock: Clock | None
             ) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # the database first: the catalogue the bot uses has the admins' edits in it
            sessions = await stack.enter_async_context(open_database(settings.database_url))
            editor = catalogue_editor(settings, sessions, clock)
            loaded_at = await editor.revisions.newest()
            catalogue = await editor.catalogue()
            understanding = await stack.enter_async_context(
                open_understanding(settings, settings.nlu_port, catalogue))
            following = asyncio.create_task(
                editor.follow(catalogue, loaded_at, understanding.use_catalogue))
            stack.callback(following.cancel)
            app[nlu_api.UNDERSTANDING] = understanding
            redis = await stack.enter_async_context(open_redis(settings))
            session = await stack.enter_async_context(aiohttp.ClientSession())
            app_id = settings.wechat_app_id
            secret = str(settings.wechat_secret) if settings.wechat_secret else None
            base = settings.wechat_api_base or DEFAULT_API_BASE
            if app_id is None or secret is None:
                fake = await stack.enter_async_context(start_fake_wechat())
                app_id, secret, base = fake.app_id, fake.secret, fake.url
                app[simulator.FAKE_WECHAT_URL] = fake.url
                log.info("WeChat API: local fake on %s", fake.url)
            recognizer, synthesizer = await speech(settings, app, stack, session)
            api = WeChatApi(session, redis, app_id, secret, base)
            config = WeChatConfig(str(settings.wechat_token), app_id,
                                  str(settings.wechat_aes_key) if settings.wechat_aes_key
                                  else None)
            app[health.READINESS] = health.Readiness(
                health.Backends(sessions, redis, understanding))
            cases = build_case_service(settings, sessions, clock, catalogue)
            app[clerk_api.CASES] = cases
            files = await stack.enter_async_context(open_file_store(settings))
            appointments = build_appointments(settings, sessions, clock)
            await appointments.bookings.ensure_calendar()
            nightly_jobs: list[Callable[[], Awaitable[int]]] = [
                appointments.bookings.ensure_calendar]
            if settings.files_retention_days:
                days = settings.files_retention_days
                nightly_jobs.append(lambda: cases.purge_files(days, files))
            nightly_jobs.append(lambda: cases.purge_chat_files(settings.transcript_days, files))
            nightly_task = asyncio.create_task(nightly(appointments.bookings, nightly_jobs))
            stack.callback(nightly_task.cancel)
            app[clerk_appointments.BOOKINGS] = appointments.bookings
            app[clerk_api.RULES] = appointments.bookings.rules
            clerk_api.check_windows(app[clerk_api.TOKENS], appointments.bookings.rules)
            app[clerk_appointments.VISITS] = appointments.visits
            notices = build_notice_store(settings, sessions, clock)
            app[clerk_notices.NOTICES] = app[sms_receipts.RECEIPTS] = notices
            handoffs = build_handoffs(settings, sessions, redis, appointments,
                                      wecom_poster(settings, session), clock)
            review = ReviewService(sessions, clock) if clock else ReviewService(sessions)
            # one for the console and the dialogue (binding, the agent menu, consent)
            agents = AgentService(sessions, clock or chinatime.now)
            app[console_base.CONSOLE] = await console_services(
                settings, sessions, redis, cases, appointments, handoffs, files, review, editor,
                catalogue, agents)
            app[clerk_api.MATTERS] = frozenset(m.id for m in app[console_base.CONSOLE].catalogue)
            app[clerk_api.ACCOUNTS] = app[console_base.CONSOLE].accounts
            voice = VoiceMaker(synthesizer, api) if synthesizer else None
            listeners = VoicePreferences(redis) if voice else None
            dialogue = build_dialogue(settings, understanding, redis, cases=cases, files=files,
                                      media=api, recognizer=recognizer,
                                      appointments=appointments,
                                      preferences=notices, handoffs=handoffs,
                                      audit=AuditLog(sessions).record, review=review,
                                      catalogue=catalogue, voice=listeners, agents=agents)
            if settings.notice_worker:
                worker = build_notice_worker(settings, sessions, redis, session, api, cases,
                                             appointments, store=notices,
                                             periodic=(handoffs.escalate_overdue,),
                                             aloud=VoiceNotices(voice, listeners)
                                             if voice and listeners else None)
                stop = asyncio.Event()
                worker_task = asyncio.create_task(worker.run(stop))
                stack.push_async_callback(_stop_worker, stop, worker_task)
            if sms.SMS_UPLINK in app:
                app[sms.SMS_UPLINK].connect(dialogue, redis, SmsReplies(
                    sessions, redis, notices.composer.rules, settings.sms_reply_daily_cap,
                    load_center(settings.catalogue_dir).phone))
            webhook = app[WEBHOOK]
            webhook.connect(config, dialogue, redis, api, voice)
            stack.push_async_callback(webhook.close)
            yield

    return context


def wecom_poster(settings: Settings, session: aiohttp.ClientSession) -> WeComPost | None:
    webhook = settings.wecom_webhook
    if webhook is None:
        return None

    async def post(text: str) -> None:
        await wecom.post_text(session, webhook, text)

    return post


async def console_services(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                           redis: Redis, cases: CaseService, appointments: Appointments,
                           handoffs: HandoffService, files: FileStore, review: ReviewService,
                           editor: CatalogueEditor, catalogue: Catalogue,
                           agents: AgentService) -> console_base.ConsoleServices:
    accounts = Accounts(sessions, redis)
    password = secrets.token_urlsafe(12)
    # A fresh install: one admin, its password shown once (by the worker that wrote it).
    if await accounts.count() == 0 and await accounts.add_first_admin(password):
        log.warning("console: first start, user admin, password %s (add clerks with "
                    "`bot clerk add`)", password)

    async def publish() -> str:
        return await publish_catalogue(settings, editor, await review.taught())

    return console_base.ConsoleServices(
        accounts, handoffs, cases, appointments.bookings, appointments.visits,
        catalogue, load_center(settings.catalogue_dir), sessions,
        redis, publish, StateStore(redis, settings.transcript_days), files,
        SavedReplies(sessions), review, editor, agents)


def catalogue_editor(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                     clock: Clock | None) -> CatalogueEditor:
    revisions = MatterRevisions(sessions, clock) if clock else MatterRevisions(sessions)
    return CatalogueEditor(settings.catalogue_dir, settings.seeds_dir, revisions)


async def publish_catalogue(settings: Settings, editor: CatalogueEditor,
                            taught: Sequence[Taught] = (), trainer: Trainer | None = None) -> str:
    """「发布更新」: check every catalogue file with the admins' edits, then retrain the NLU
    model in a thread, with the examples admins approved (`taught`) beside nlu_data/.
    `trainer`: tests pass a fake."""
    from bot.cli import ensure_model

    try:
        catalogue = await editor.catalogue()
        load_booking_rules(settings.catalogue_dir, frozenset(m.id for m in catalogue))
        load_notice_rules(settings.catalogue_dir)
    except CatalogueError as error:
        return "检查没通过：" + "；".join(str(p) for p in error.problems)
    model = await asyncio.to_thread(ensure_model, settings, taught=taught, trainer=trainer,
                                    catalogue=catalogue)
    learnt = f"，加入了 {len(taught)} 条审核通过的例句" if taught else ""
    return (f"检查通过，{len(catalogue)} 个事项；问答模型已更新（{model.name}{learnt}），"
            "服务重启后使用新模型。")


async def _stop_worker(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    await task


async def nightly(bookings: BookingService,
                  jobs: list[Callable[[], Awaitable[int]]]) -> None:
    """Every night: open the next day's slots, delete photos past their retention. Several
    workers doing it is harmless (both are idempotent)."""
    while True:
        now = local(bookings.now())
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0, 5), CHINA)
        await asyncio.sleep((tomorrow - now).total_seconds())
        for job in jobs:
            try:
                await job()
            except Exception:  # a database hiccup: tomorrow night's run does it
                log.exception("nightly job failed")


def clerk_tokens(settings: Settings) -> dict[str, clerk_api.TokenOwner]:
    """CLERK_TOKENS' clerks and their windows; unset: one all-window token for this run."""
    if settings.clerk_tokens:
        return clerk_api.parse_tokens(settings.clerk_tokens)
    token = secrets.token_urlsafe(18)
    log.warning("CLERK_TOKENS is not set: clerk API token (every window) for this run: %s",
                token)
    return {token: clerk_api.TokenOwner("值班员", clerk_api.EVERY_WINDOW)}


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """The service; `clock` sets the appointments' and notices' "now" (tests, demos)."""
    app = web.Application(client_max_size=nlu_api.MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[WEBHOOK] = WeChatWebhook(budget=settings.wechat_reply_budget,
                                 rate_limit=settings.wechat_rate_limit)
    app.cleanup_ctx.append(services(settings, clock))
    health.setup_routes(app)
    security.setup(app, settings.trust_proxy)
    app[WEBHOOK].setup(app)
    nlu_api.setup_routes(app, settings.nlu_parse_per_minute)
    clerk_api.setup_routes(app, clerk_tokens(settings))
    clerk_appointments.setup_routes(app)
    clerk_notices.setup_routes(app)
    callback_token = str(settings.sms_receipt_token) if settings.sms_receipt_token else None
    if callback_token is None and settings.simulator:  # the simulator's SMS tab posts to it
        callback_token = secrets.token_urlsafe(18)
    sms_receipts.setup_routes(app, callback_token, settings.sms_receipt_allow)
    sms.setup_routes(app, callback_token, settings.sms_receipt_allow)
    console.setup_routes(app)
    console_teaching.setup_routes(app)
    if settings.simulator:
        simulator.setup_routes(app, str(settings.wechat_token),
                               load_menu(settings.catalogue_dir), callback_token,
                               settings.sms_log if settings.sms_provider == "console" else None)
    return app
