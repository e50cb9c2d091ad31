"""Login flood benchmark (issue #11, finding 4), printed as figures: `bot serve` on
PostgreSQL with a real NLU service and Redis.

Villagers ask questions on /wechat at a steady pace, first alone, then while wrong console
passwords arrive from many addresses at once (127.0.x.y on loopback, each address and each
name below its lockout limit, so that every one of them costs a scrypt). Figures: /wechat
p50/p99 without and with the flood (target: p99 ≤ 250 ms, /wechat's own target), and the
logins answered per second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import statistics
import sys
import time

import aiohttp
from redis.asyncio import Redis

from bench.common import fresh_database, percentile
from bench.wechat import QUESTIONS, REDIS_URL, TOKEN, send, server
from bot.config import Secret, Settings
from bot.nlu.runtime import free_port, local_nlu_service
from bot.security.lockout import LOGIN

DATABASE = "bianmin_bench_logins"
ADDRESSES = 40  # each tries fewer names than its limit, each name fewer times than its own
TRIES_PER_ADDRESS = LOGIN.limits["ip"].tries - 1
MESSAGES = 200
RATE = 20  # /wechat messages a second


async def villagers(url: str, first_id: int) -> list[float]:
    """/wechat latencies at a steady RATE, MESSAGES of them."""
    ids = itertools.count(first_id)
    async with aiohttp.ClientSession() as session:
        tasks = []
        for n in range(MESSAGES):
            tasks.append(asyncio.create_task(send(session, url, f"o_flood_{n % 50}", next(ids),
                                                  QUESTIONS[n % len(QUESTIONS)])))
            await asyncio.sleep(1 / RATE)
        return list(await asyncio.gather(*tasks))


async def wrong_logins(url: str, address: int) -> list[int]:
    connector = aiohttp.TCPConnector(local_addr=(f"127.0.{address // 250}.{address % 250 + 2}",
                                                 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        statuses = []
        for n in range(TRIES_PER_ADDRESS):
            async with session.post(f"{url}/console/login", data={
                    "username": f"guess-{address}-{n}", "password": "wrong"}) as response:
                statuses.append(response.status)
        return statuses


async def flood(url: str) -> tuple[list[float], int, float]:
    started = time.perf_counter()
    logins = asyncio.gather(*(wrong_logins(url, a) for a in range(ADDRESSES)))
    latencies = await villagers(url, 2_000_000)
    answered = sum(len(s) for s in await logins)
    return latencies, answered, time.perf_counter() - started


def figures(label: str, latencies: list[float]) -> str:
    return (f"/wechat {label}: p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms")


async def main() -> None:
    settings = dataclasses.replace(Settings.from_env({}), nlu_token=Secret("bench-nlu-token"))
    url = await fresh_database(DATABASE)
    async with Redis.from_url(REDIS_URL) as redis:
        keys = [key async for key in redis.scan_iter("bm:lockout:*")]
        if keys:
            await redis.delete(*keys)
    print(f"login flood benchmark: one bot worker; {ADDRESSES} addresses × "
          f"{TRIES_PER_ADDRESS} wrong passwords", flush=True)
    async with local_nlu_service(settings) as nlu_url:
        port = free_port()
        env = dict(os.environ, NLU_URL=nlu_url, NLU_TOKEN=str(settings.nlu_token),
                   REDIS_URL=REDIS_URL, WECHAT_TOKEN=TOKEN, SIMULATOR="0",
                   DATABASE_URL=url, NOTICE_WORKER="0", WECHAT_RATE_LIMIT="1000")
        bot = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
        async with server(bot, env, port) as base:
            alone = await villagers(base, 1_000_000)
            flooded, answered, seconds = await flood(base)
    await fresh_database(DATABASE)
    print(figures("alone", alone))
    print(figures("during the flood", flooded) + " (target: p99 ≤ 250 ms)")
    print(f"wrong logins answered: {answered} in {seconds:.1f} s "
          f"({answered / seconds:.0f}/s, scrypt in worker threads)")


if __name__ == "__main__":
    asyncio.run(main())
