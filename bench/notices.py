"""Notice benchmark (issue #6 target), printed as figures, on PostgreSQL and Redis.

10,000 notices queued (half to WeChat followers, half by SMS through the Aliyun adapter)
are delivered to the local fake providers by 4 `bot worker` processes: time, per-notice
latency from the event to the provider, lost and duplicated. A second run kills one worker
(SIGKILL) halfway: its claimed notices wait out their lease and go through the others.
A third, light run (20 events a second) shows latency when nothing is queued.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select

from bench.common import fresh_database, percentile
from bot.config import ROOT
from bot.notices.rules import load_notice_rules
from bot.storage.db import open_database
from bot.storage.tables import DomainEvent, Notice
from integrations.fakes.sms import KEY_ID, SECRET, start_fake_sms
from integrations.fakes.wechat_api import start_fake_wechat

DATABASE = "bianmin_bench_notices"
REDIS_URL = "redis://127.0.0.1:6379/10"
NOTICES = 10_000
WORKERS = 4
LIMIT = 60.0  # seconds, the target


def catalogue_without_quiet_hours() -> Path:
    """The benchmark runs at any hour: a copy of the catalogue with no quiet hours."""
    copy = Path(tempfile.mkdtemp(prefix="bench-notices-")) / "catalogue"
    shutil.copytree(ROOT / "catalogue", copy)
    rules = copy / "notices.yml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        'quiet_hours: {from: "21:00", to: "08:00"}', 'quiet_hours: {from: "00:00", to: "00:00"}'),
        encoding="utf-8")
    return copy


def event_rows(first: int, count: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [{"kind": "booking.created", "case_id": None, "created_at": now, "payload": {
        "booking_no": f"YY{n:011d}", "when": "11月28日（周六）上午9:00（延时服务）",
        "place": "便民服务大厅2号窗口（民政窗口）", "matter": "dibao", "user_id": f"o_{n}",
        "channel": "wechat" if n % 2 else "sms", "phone": f"13{n:09d}"}}
        for n in range(first, first + count)]


async def start_workers(env: dict[str, str]) -> list[asyncio.subprocess.Process]:
    return [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "worker", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL) for _ in range(WORKERS)]


async def run(label: str, sessions: Any, env: dict[str, str], fakes: Any, first: int,
              count: int, *, kill_at: float | None = None, rate: float | None = None) -> None:
    wechat, sms = fakes
    async with Redis.from_url(REDIS_URL) as redis:
        await redis.flushdb()
    if rate is None:
        async with sessions.begin() as session:
            await session.execute(DomainEvent.__table__.insert(), event_rows(first, count))
    workers = await start_workers(env)
    if rate is not None:
        await asyncio.sleep(5)  # the workers started: latency, not start-up, is measured
    started = time.perf_counter()
    if rate is not None:  # a trickle: one event at a time
        for n in range(first, first + count):
            async with sessions.begin() as session:
                await session.execute(DomainEvent.__table__.insert(), event_rows(n, 1))
            await asyncio.sleep(1 / rate)
    killed = False
    while time.perf_counter() - started < 180:
        done = len(sms.state.outbox) + len(wechat.state.outbox)
        if kill_at is not None and not killed and done >= kill_at * count:
            workers[0].send_signal(signal.SIGKILL)
            killed = True
        if done >= count:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    for worker in workers:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
    await asyncio.gather(*(worker.wait() for worker in workers))
    async with sessions() as session:
        sent = await session.scalar(select(func.count()).select_from(Notice)
                                    .where(Notice.status == "sent"))
        events = {e.id: e.created_at for e in await session.scalars(select(DomainEvent))}
        notices = {f"bm-notice-{n.id}": events[n.event_id] for n in await session.scalars(
            select(Notice))}
    arrivals = [(m["key"], m["at"]) for m in sms.state.outbox]
    latencies = [at - notices[key].timestamp() for key, at in arrivals if key in notices]
    phones = [m["phone"] for m in sms.state.outbox]
    openids = [m["touser"] for m in wechat.state.outbox]
    duplicated = (len(phones) - len(set(phones))) + (len(openids) - len(set(openids)))
    lost = count - len(set(phones)) - len(set(openids))
    outcome = (f"{sent} recorded sent, {lost} lost, {duplicated} duplicated at the phone, "
               f"{sms.state.repeats + wechat.state.repeats} repeats absorbed by idempotency "
               f"keys; SMS latency event→provider p50 {percentile(latencies, 0.5) * 1000:.0f} "
               f"ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms")
    if rate is None:
        print(f"{label}: {count} notices by {WORKERS} workers in {elapsed:.1f} s "
              f"({count / elapsed:.0f}/s; target ≤ {LIMIT:.0f} s), {outcome}", flush=True)
    else:
        print(f"{label}: {count} notices by {WORKERS} workers, {outcome}", flush=True)
    sms.state.outbox.clear()
    wechat.state.outbox.clear()
    sms.state.repeats = wechat.state.repeats = 0


async def main() -> None:
    catalogue = catalogue_without_quiet_hours()
    templates = {code: t.sms for t in load_notice_rules(catalogue).templates.values()
                 for code in (t.aliyun, t.tencent)}
    url = await fresh_database(DATABASE)
    async with open_database(url) as sessions, start_fake_wechat() as wechat, \
            start_fake_sms(templates) as sms:
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL,
               "CATALOGUE_DIR": str(catalogue), "WECHAT_APPID": wechat.app_id,
               "WECHAT_SECRET": wechat.secret, "WECHAT_API_BASE": wechat.url,
               "SMS_PROVIDER": "aliyun", "SMS_ENDPOINT": sms.aliyun_endpoint,
               "SMS_KEY_ID": KEY_ID, "SMS_SECRET": SECRET, "RASA_TELEMETRY_ENABLED": "false"}
        fakes = (wechat, sms)
        await run("notices", sessions, env, fakes, 0, NOTICES)
        await run("notices, one worker killed halfway", sessions, env, fakes, NOTICES, NOTICES,
                  kill_at=0.5)
        await run("notices trickling at 20/s", sessions, env, fakes, 2 * NOTICES, 200, rate=20)
    await fresh_database(DATABASE)
    shutil.rmtree(catalogue.parent)


if __name__ == "__main__":
    asyncio.run(main())
