"""Notice workers under real faults: a `bot worker` process killed mid-send, Redis stopped
mid-round. Nothing lost, nothing sent twice to the villager."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.config import ROOT
from bot.nlu.runtime import free_port
from bot.notices.outbox import LEASE
from bot.storage.tables import Notice
from integrations.fakes.sms import KEY_ID, SECRET, start_fake_sms
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.test_notices import DAYTIME, SMS_TEMPLATES, Clock, add_event, booked, make_worker
from tests.test_wechat_faults import start_redis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.fixture
def awake_catalogue(tmp_path):
    """The catalogue with no quiet hours: the worker process runs on the real clock."""
    copy = tmp_path / "catalogue"
    shutil.copytree(ROOT / "catalogue", copy)
    rules = copy / "notices.yml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        'quiet_hours: {from: "21:00", to: "08:00"}', 'quiet_hours: {from: "00:00", to: "00:00"}'),
        encoding="utf-8")
    return copy


async def start_worker(sms, catalogue):
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL,
           "CATALOGUE_DIR": str(catalogue), "SMS_PROVIDER": "aliyun",
           "SMS_ENDPOINT": sms.aliyun_endpoint, "SMS_KEY_ID": KEY_ID, "SMS_SECRET": SECRET}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "worker", "--concurrency", "2", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def test_a_killed_worker_process_loses_and_repeats_nothing(sessions, real_redis,
                                                                 awake_catalogue):
    async with start_fake_sms(SMS_TEMPLATES) as sms:
        sms.state.delay = 0.05  # slow enough to kill the worker in the middle
        for n in range(150):
            await add_event(sessions, "booking.created",
                            **booked(user=f"o_{n}", channel="sms", phone=f"137{n:08d}"))
        first = await start_worker(sms, awake_catalogue)
        while len(sms.state.outbox) < 40:
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        second = await start_worker(sms, awake_catalogue)
        try:
            for _ in range(int((LEASE.total_seconds() + 30) * 10)):
                if len(sms.state.outbox) >= 150:
                    break
                await asyncio.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
    phones = [m["phone"] for m in sms.state.outbox]
    assert len(phones) == len(set(phones)) == 150
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)
                                    .where(Notice.status == "sent")) == 150


async def test_redis_stopped_in_the_middle_of_a_round(sessions, tmp_path):
    from redis.asyncio import Redis

    port = free_port()
    server = start_redis(port, tmp_path)
    clock = Clock(DAYTIME)
    async with Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=2) as redis, \
            start_fake_sms(SMS_TEMPLATES) as sms, aiohttp.ClientSession() as session:
        fakes = (None, sms, session)  # SMS only: this test is about Redis
        worker, _ = make_worker(sessions, redis, fakes, clock, provider="tencent")
        await add_event(sessions, "booking.created", **booked(channel="sms"))
        server.terminate()
        server.wait(10)
        assert await worker.run_once() == 1  # claimed; the SMS limiter could not be asked
        assert sms.state.outbox == []
        server = start_redis(port, tmp_path)
        try:
            assert await worker.run_once() == 0  # still leased
            clock.now += LEASE + timedelta(seconds=1)
            assert await worker.run_once() == 1
        finally:
            server.terminate()
            server.wait(10)
    assert [m["phone"] for m in sms.state.outbox] == ["13800001234"]


def postgresql(action):
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                   check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None, reason="needs Debian's PostgreSQL")
async def test_postgresql_stopped_between_sending_and_recording(sessions, real_redis):
    """The SMS went, the database was gone before the worker could say so: when it is back
    the notice is sent again with the same key, and the villager gets it once."""
    from bot.notices.outbox import Preference

    clock = Clock(DAYTIME)
    async with start_fake_sms(SMS_TEMPLATES) as sms, aiohttp.ClientSession() as session:
        worker, store = make_worker(sessions, real_redis, (None, sms, session), clock)
        await add_event(sessions, "booking.created", **booked(channel="sms"))
        await store.plan()
        [notice] = await store.claim()
        postgresql("stop")
        try:
            with pytest.raises(OSError):  # asyncpg cannot connect: nothing recorded
                await worker.deliver(notice, Preference())
        finally:
            postgresql("start")
        assert len(sms.state.outbox) == 1
        clock.now += LEASE + timedelta(seconds=1)
        for _ in range(100):  # the database takes a moment to accept connections again
            try:
                handled = await worker.run_once()
                break
            except OSError:
                await asyncio.sleep(0.1)
        assert handled == 1
    assert len(sms.state.outbox) == 1 and sms.state.repeats == 1
    async with sessions() as session:
        assert (await session.scalar(select(Notice))).status == "sent"
