"""`/wechat` benchmark (issue #3 targets), printed as figures.

One bot worker (`bot serve`, its own process) with the real NLU service and Redis; the load
comes from this process over loopback with signed WeChat XML, many villagers asking real
questions. Figures:
- throughput at full load (target ≥ 100 messages/s) and the same load against a bare aiohttp
  handler that only checks the signature, parses and answers the XML (the ceiling): ratio;
- latency p50/p99 at a steady 50 messages/s (target p99 ≤ 250 ms);
- every message delivered three times at once: dialogue turns counted in Redis
  (target: zero double-processed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from bench.common import percentile
from bot.config import ROOT, Secret, Settings
from bot.nlu.runtime import free_port, local_nlu_service

TOKEN = "bench-wechat-token"
REDIS_URL = "redis://127.0.0.1:6379/10"
QUESTIONS = [line.split("\t")[2] for line in
             (ROOT / "tests" / "nlu" / "heldout.tsv").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
FULL_LOAD_MESSAGES = 1500
FULL_LOAD_CONCURRENCY = 32
STEADY_RATE = 50
STEADY_SECONDS = 20
TRIPLE_MESSAGES = 300


def sign(timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()


def push(user: str, msg_id: int, text: str) -> tuple[dict[str, str], bytes]:
    timestamp, nonce = str(int(time.time())), str(msg_id)
    query = {"signature": sign(timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    xml = (f"<xml><ToUserName><![CDATA[gh_center]]></ToUserName><FromUserName><![CDATA[{user}]]>"
           f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]>"
           f"</MsgType><Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    return query, xml.encode()


@asynccontextmanager
async def server(command: list[str], env: dict[str, str], port: int) -> AsyncIterator[str]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(f"{url}/healthz"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


@asynccontextmanager
async def bot_worker(settings: Settings, redis_url: str) -> AsyncIterator[str]:
    """`bot serve` in its own process with a local NLU service and the given Redis; its URL."""
    async with local_nlu_service(settings) as nlu_url:
        port = free_port()
        env = dict(os.environ, NLU_URL=nlu_url, NLU_TOKEN=str(settings.nlu_token),
                   REDIS_URL=redis_url, WECHAT_TOKEN=TOKEN, SIMULATOR="0")
        bot = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
        async with server(bot, env, port) as url:
            yield url


async def send(session: aiohttp.ClientSession, url: str, user: str, msg_id: int,
               text: str) -> float:
    query, body = push(user, msg_id, text)
    started = time.perf_counter()
    async with session.post(f"{url}/wechat", params=query, data=body) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
    return time.perf_counter() - started


async def full_load(url: str, first_id: int) -> float:
    ids = itertools.count(first_id)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(FULL_LOAD_MESSAGES):
        queue.put_nowait(number)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            number = queue.get_nowait()
            await send(session, url, f"o_load_{number % 500}", next(ids),
                       QUESTIONS[number % len(QUESTIONS)])

    connector = aiohttp.TCPConnector(limit=FULL_LOAD_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(FULL_LOAD_CONCURRENCY)))
        return FULL_LOAD_MESSAGES / (time.perf_counter() - started)


async def steady(url: str, first_id: int) -> list[float]:
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        tasks = []
        started = time.perf_counter()
        for number in range(STEADY_RATE * STEADY_SECONDS):
            delay = started + number / STEADY_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(
                session, url, f"o_steady_{number}", first_id + number,
                QUESTIONS[number % len(QUESTIONS)])))
        latencies = list(await asyncio.gather(*tasks))
    return latencies


async def triple_delivery(url: str, redis: Redis, first_id: int) -> tuple[int, int]:
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(
            send(session, url, f"o_triple_{n % 100}", first_id + n, QUESTIONS[n % len(QUESTIONS)])
            for n in range(TRIPLE_MESSAGES) for _ in range(3)
        ))
    turns = 0
    for user in range(100):
        lines = await redis.lrange(f"bianmin:transcript:wechat:o_triple_{user}", 0, -1)
        turns += sum(1 for line in lines if '"dir": "in"' in line)
    return TRIPLE_MESSAGES, turns



async def main() -> None:
    settings = dataclasses.replace(Settings.from_env({}), nlu_token=Secret("bench-nlu-token"))
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    await redis.flushdb()
    print(f"/wechat benchmark: one worker, {os.cpu_count()} CPUs, real NLU and Redis",
          flush=True)
    async with bot_worker(settings, REDIS_URL) as url:
        rate = await full_load(url, 1_000_000)
        latencies = await steady(url, 2_000_000)
        sent, turns = await triple_delivery(url, redis, 3_000_000)
    bare_port = free_port()
    bare = [sys.executable, str(Path(__file__).with_name("bare_wechat.py")), str(bare_port), TOKEN]
    async with server(bare, dict(os.environ), bare_port) as url:
        ceiling = await full_load(url, 4_000_000)
    await redis.flushdb()
    await redis.aclose()
    print(f"full load ({FULL_LOAD_CONCURRENCY} at once): {rate:.0f} messages/s "
          f"(bare aiohttp ceiling {ceiling:.0f}/s, ratio {rate / ceiling:.2f})")
    print(f"steady {STEADY_RATE}/s for {STEADY_SECONDS} s: p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p99 "
          f"{percentile(latencies, 0.99) * 1000:.0f} ms")
    print(f"each of {sent} messages delivered 3× at once: {turns} dialogue turns "
          f"({turns - sent} double-processed)")


if __name__ == "__main__":
    asyncio.run(main())
