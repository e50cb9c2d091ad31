"""Domain services stage: the notice worker — plan, claim, deliver, record; and reminders.

One round: new events become notices; due notices are claimed (several workers share the
work through SKIP LOCKED) and delivered concurrently:

    opted out ─→ cancelled
    WeChat (followers, unless SMS only): a template message (防重入 by client_msg_id) when
        the kind has one, else a customer-service message (marked in Redis first, never
        sent twice) ─→ sent (then read aloud too, for villagers who want voice: best
        effort, bot/voice.py) | not reachable / quota used ─→ SMS | down ─→ later
    SMS: quiet hours (not urgent) ─→ at 08:00 | a provider limit ─→ when it lifts |
        sent | retry with backoff | failed (bad number…) — surfaced to clerks

`run` repeats rounds until stopped, writes reminders every few minutes, and survives the
database or Redis being away (the round is tried again; nothing is lost: an unrecorded
notice's lease runs out and it is claimed again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.chinatime import CHINA, local
from bot.notices.limits import SendMarks, SmsLimiter
from bot.notices.outbox import Attempt, NoticeStore, Preference, idempotency_key
from bot.notices.replies import CHAT_REPLY
from bot.notices.rules import NoticeRules, fill
from bot.storage.tables import Notice
from integrations.errors import IntegrationError, ServiceUnavailable
from integrations.sms import SmsMessage, SmsProvider
from integrations.wechat_api import NotReachable, QuotaExceeded

log = logging.getLogger(__name__)
REMINDER_EVERY = 300.0  # seconds


class WeChatSender(Protocol):
    async def send_text(self, openid: str, text: str) -> None: ...

    async def send_template(self, openid: str, template_id: str, fields: dict[str, str],
                            client_msg_id: str, url: str | None = None) -> str: ...


class Aloud(Protocol):
    async def read_aloud(self, openid: str, text: str) -> None: ...


class NoticeWorker:
    def __init__(self, store: NoticeStore, sms: SmsProvider, limiter: SmsLimiter,
                 marks: SendMarks, wechat: WeChatSender | None,
                 reminders: Sequence[Callable[[], Awaitable[int]]] = (),
                 concurrency: int = 20, aloud: Aloud | None = None) -> None:
        self._store = store
        self._rules: NoticeRules = store.composer.rules
        self._sms = sms
        self._limiter = limiter
        self._marks = marks
        self._wechat = wechat
        self._reminders = reminders
        self._slots = asyncio.Semaphore(concurrency)
        self._aloud = aloud

    async def run_once(self) -> int:
        """One round; returns how many notices it handled."""
        await self._store.plan()
        claimed = await self._store.claim()
        if claimed:
            preferences = await self._store.preferences(claimed)
            await asyncio.gather(*(self._guarded(n, preferences[n.id]) for n in claimed))
        return len(claimed)

    async def remind(self) -> int:
        return sum([await write() for write in self._reminders])

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        next_reminders = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                if loop.time() >= next_reminders:
                    await self.remind()
                    next_reminders = loop.time() + REMINDER_EVERY
                handled = await self.run_once()
            except Exception:  # the database or Redis away: try the round again later
                log.exception("notice round failed; retrying")
                handled = 0
                idle_for = 5.0
            else:
                idle_for = idle
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_for)

    async def _guarded(self, notice: Notice, preference: Preference) -> None:
        async with self._slots:
            try:
                await self.deliver(notice, preference)
            except Exception:  # recorded nothing: the lease runs out and it is tried again
                log.exception("notice %s: delivery round failed", notice.id)

    async def deliver(self, notice: Notice, preference: Preference) -> None:
        if preference.opted_out and notice.kind != CHAT_REPLY:  # an answer they asked for
            await self._store.record(notice.id, [Attempt("none", "", "cancelled", "opted_out",
                                                         "退订")], "cancelled")
            return
        attempts: list[Attempt] = []
        if notice.openid and self._wechat and preference.mode != "sms_only":
            attempt = await self._by_wechat(notice)
            attempts.append(attempt)
            if attempt.outcome == "sent":
                await self._store.record(notice.id, attempts, "sent", sent_via="wechat")
                if self._aloud is not None:
                    await self._aloud.read_aloud(notice.openid, notice.text)
                return
            if attempt.outcome == "retry" and not self._last_try(notice):
                await self._later(notice, attempts)
                return
        if not notice.phone:
            await self._store.record(notice.id, attempts or [Attempt(
                "none", "", "failed", "no_contact", "没有可用的联系方式")], "failed")
            return
        await self._by_sms(notice, attempts)

    def _last_try(self, notice: Notice) -> bool:
        return notice.attempts + 1 >= self._rules.max_attempts

    async def _later(self, notice: Notice, attempts: list[Attempt]) -> None:
        wait = self._rules.backoff(notice.attempts + 1)
        await self._store.record(notice.id, attempts, "pending",
                                 next_at=self._store.now() + wait)

    async def _by_wechat(self, notice: Notice) -> Attempt:
        assert self._wechat is not None and notice.openid is not None
        template = self._rules.templates.get(notice.kind)
        try:
            if template and template.wechat_template_id:
                fields = {name: fill(value, notice.values)
                          for name, value in template.wechat_fields.items()}
                message_id = await self._wechat.send_template(
                    notice.openid, template.wechat_template_id, fields,
                    idempotency_key(notice.id))
                return Attempt("wechat", "template", "sent", message_id=message_id)
            if not await self._marks.first(idempotency_key(notice.id)):
                # a worker died around this send: it may have arrived; SMS rather than twice
                return Attempt("wechat", "custom", "fallback", "maybe_sent",
                               "上次发送中断，改发短信")
            await self._wechat.send_text(notice.openid, notice.text)
            return Attempt("wechat", "custom", "sent")
        except (NotReachable, QuotaExceeded) as refused:
            return Attempt("wechat", "wechat", "fallback", str(refused.code), refused.message)
        except (ServiceUnavailable, IntegrationError) as failed:
            return Attempt("wechat", "wechat", "retry", str(failed.code), failed.message)

    async def _by_sms(self, notice: Notice, attempts: list[Attempt]) -> None:
        provider = self._sms.name
        template = self._rules.templates.get(notice.kind)
        now = local(self._store.now())
        if self._rules.quiet(now) and not notice.urgent:
            attempts.append(Attempt("sms", provider, "later", "quiet_hours", "夜间免打扰"))
            await self._store.record(notice.id, attempts, "pending",
                                     next_at=self._rules.quiet_ends(now), counted=False)
            return
        code = (getattr(template, provider, "") if template else "") or notice.kind
        text = f"【{self._rules.sign_name}】{notice.text}"
        wait = await self._limiter.admit(notice.phone or "", code, text, now)
        if wait is not None:
            attempts.append(Attempt("sms", provider, "later", "number_limit", "号码发送频率限制"))
            await self._store.record(notice.id, attempts, "pending", next_at=wait, counted=False)
            return
        result = await self._sms.send(SmsMessage(
            phone=notice.phone or "", sign_name=self._rules.sign_name, template=code,
            params=template.sms_params(notice.values) if template else {}, text=notice.text,
            key=idempotency_key(notice.id)))
        attempts.append(Attempt("sms", provider, result.outcome, result.code, result.detail,
                                result.message_id))
        if result.outcome == "sent":
            await self._store.record(notice.id, attempts, "sent", sent_via="sms")
        elif result.outcome == "failed" or self._last_try(notice):
            await self._store.record(notice.id, attempts, "failed")
        elif result.outcome == "throttled":
            lifts = now + timedelta(seconds=30) if "Thirty" in result.code else \
                datetime.combine(now.date() + timedelta(days=1), self._rules.quiet_to, CHINA)
            await self._store.record(notice.id, attempts, "pending", next_at=lifts)
        else:
            await self._later(notice, attempts)
