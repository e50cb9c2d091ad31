"""Domain services stage, wiring: a notice worker from the settings (SMS provider, WeChat
API, reminders of appointments, visits and waiting cases)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import aiohttp
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases.service import CaseService
from bot.catalogue.center import load_center
from bot.catalogue.loader import load_catalogue
from bot.config import Settings
from bot.flows.booking import Appointments
from bot.notices.compose import Composer
from bot.notices.limits import SendMarks, SmsLimiter
from bot.notices.outbox import NoticeStore
from bot.notices.rules import load_notice_rules
from bot.notices.worker import Aloud, NoticeWorker, WeChatSender
from integrations.sms import SmsProvider
from integrations.sms.aliyun import DEFAULT_ENDPOINT as ALIYUN_ENDPOINT
from integrations.sms.aliyun import AliyunSms
from integrations.sms.console import ConsoleSms
from integrations.sms.tencent import DEFAULT_ENDPOINT as TENCENT_ENDPOINT
from integrations.sms.tencent import TencentSms


def build_sms(settings: Settings, session: aiohttp.ClientSession) -> SmsProvider:
    key_id, secret = settings.sms_key_id or "", str(settings.sms_secret or "")
    if settings.sms_provider == "aliyun":
        return AliyunSms(session, key_id, secret, settings.sms_endpoint or ALIYUN_ENDPOINT)
    if settings.sms_provider == "tencent":
        return TencentSms(session, key_id, secret, settings.sms_app_id or "",
                          settings.sms_endpoint or TENCENT_ENDPOINT)
    return ConsoleSms(settings.sms_log)


def build_notice_store(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                       clock: Callable[[], datetime] | None = None) -> NoticeStore:
    composer = Composer(load_notice_rules(settings.catalogue_dir),
                        load_catalogue(settings.catalogue_dir),
                        load_center(settings.catalogue_dir))
    return NoticeStore(sessions, composer, clock) if clock else NoticeStore(sessions, composer)


def build_notice_worker(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                        redis: Redis, session: aiohttp.ClientSession,
                        wechat: WeChatSender | None, cases: CaseService,
                        appointments: Appointments, concurrency: int = 20,
                        store: NoticeStore | None = None,
                        periodic: Sequence[Callable[[], Awaitable[int]]] = (),
                        aloud: Aloud | None = None) -> NoticeWorker:
    store = store or build_notice_store(settings, sessions)
    days = store.composer.rules.waiting_reminder_days

    async def waiting() -> int:
        return await cases.remind_waiting(days)

    return NoticeWorker(store, build_sms(settings, session),
                        SmsLimiter(redis, settings.sms_provider, settings.sms_number_daily_limit),
                        SendMarks(redis), wechat,
                        reminders=(appointments.bookings.remind, appointments.visits.remind,
                                   waiting, *periodic), concurrency=concurrency, aloud=aloud)
