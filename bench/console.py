"""Console benchmark (issue #7 targets), printed as figures: `bot serve` on PostgreSQL with
100,000 cases, a real NLU service and Redis.

- console pages p99 (target ≤ 300 ms): the queue, the case list, one case, today, a month's
  figures;
- a handoff reaching an open console (target ≤ 2 s): from the villager's 「我要人工服务」 on
  /wechat to the server-sent event in the clerk's browser connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import statistics
import sys
import time

import aiohttp
from redis.asyncio import Redis

from bench.cases import fill
from bench.common import fresh_database, percentile
from bench.wechat import TOKEN, push, server
from bot.catalogue.loader import load_catalogue
from bot.config import ROOT, Secret, Settings
from bot.console.accounts import Accounts
from bot.nlu.runtime import free_port, local_nlu_service
from bot.storage.db import open_database

DATABASE = "bianmin_bench_console"
REDIS_URL = "redis://127.0.0.1:6379/10"
REQUESTS = 60
HANDOFFS = 20
PAGES = ["/console", "/console/cases", "/console/cases/BX00000050000", "/console/today",
         "/console/figures?from=2026-06-01&to=2026-06-30"]


async def timed_pages(session: aiohttp.ClientSession, url: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for path in PAGES:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            async with session.get(f"{url}{path}", allow_redirects=False) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: {response.status}")
            times.setdefault(path, []).append(time.perf_counter() - started)
    return times


async def handoff_push(session: aiohttp.ClientSession, url: str) -> list[float]:
    """Time from posting 「我要人工服务」 to the event on the console's open stream."""
    latencies = []
    async with session.get(f"{url}/console/events") as stream:
        await stream.content.readline()  # ": connected"
        async with aiohttp.ClientSession() as villager:
            for n in range(HANDOFFS):
                query, body = push(f"o_bench_handoff_{n}", 9_000_000 + n, "我要人工服务")
                started = time.perf_counter()
                async with villager.post(f"{url}/wechat", params=query, data=body) as answer:
                    await answer.read()
                while True:
                    line = await asyncio.wait_for(stream.content.readline(), 10)
                    if b"handoff.opened" in line:
                        latencies.append(time.perf_counter() - started)
                        break
    return latencies


async def main() -> None:
    settings = dataclasses.replace(Settings.from_env({}), nlu_token=Secret("bench-nlu-token"))
    url = await fresh_database(DATABASE)
    async with open_database(url) as sessions, Redis.from_url(REDIS_URL) as redis:
        await redis.flushdb()
        await fill(sessions, [m.id for m in load_catalogue(ROOT / "catalogue")])
        await Accounts(sessions, redis).add("bench", "主管", "supervisor", None, "bench-pass")
    print("console benchmark: 100,000 cases on PostgreSQL, one bot worker", flush=True)
    async with local_nlu_service(settings) as nlu_url:
        port = free_port()
        env = dict(os.environ, NLU_URL=nlu_url, NLU_TOKEN=str(settings.nlu_token),
                   REDIS_URL=REDIS_URL, WECHAT_TOKEN=TOKEN, SIMULATOR="0",
                   DATABASE_URL=url, NOTICE_WORKER="0")
        bot = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
        async with server(bot, env, port) as base, aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.post(f"{base}/console/login", data={
                    "username": "bench", "password": "bench-pass"}) as response:
                assert response.status == 200, response.status
            pushes = await handoff_push(session, base)
            pages = await timed_pages(session, base)
    await fresh_database(DATABASE)
    for path, times in pages.items():
        print(f"GET {path}: p50 {statistics.median(times) * 1000:.0f} ms, "
              f"p99 {percentile(times, 0.99) * 1000:.0f} ms (target ≤ 300 ms)")
    print(f"handoff to an open console: p50 {statistics.median(pushes) * 1000:.0f} ms, "
          f"p99 {percentile(pushes, 0.99) * 1000:.0f} ms over {len(pushes)} (target ≤ 2 s)")


if __name__ == "__main__":
    asyncio.run(main())
