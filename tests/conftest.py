"""Shared fixtures: a real Rasa NLU service (trained if needed, one per session), real Redis."""

import dataclasses
import os
import time

import pytest

from bot.cli import ensure_model
from bot.config import Secret, Settings
from bot.nlu.runtime import free_port
from bot.nlu.service import NluProcess


def pytest_collection_finish(session: pytest.Session) -> None:
    """Train the model, when a selected test needs the NLU service and none is trained, before
    the first test rather than inside one: training takes minutes on a slow machine (over five
    in CI), and the per-test timeout is for tests, not for building what they run on."""
    if session.config.option.collectonly:
        return
    if any("nlu_service" in getattr(item, "fixturenames", ()) for item in session.items):
        ensure_model(Settings.from_env({}))


@pytest.fixture(scope="session")
def nlu_settings(tmp_path_factory) -> Settings:
    log = tmp_path_factory.mktemp("nlu") / "rasa.log"
    # A token may start with "-" (a random one does one time in 64): the service takes it.
    return dataclasses.replace(Settings.from_env({}), nlu_token=Secret("-test-token"),
                               nlu_log=log)


@pytest.fixture(scope="session")
async def nlu_service(nlu_settings):
    model = ensure_model(nlu_settings)
    process = NluProcess(nlu_settings.nlu_python, model, free_port(), nlu_settings.nlu_token,
                         nlu_settings.nlu_log)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="session")
def remote_settings(nlu_settings, nlu_service) -> Settings:
    """Settings of a bot worker pointed at the running NLU service. Its notice worker is off
    (tests of other things count messages at the fake WeChat API); the notice tests turn it
    on."""
    return dataclasses.replace(nlu_settings, nlu_url=nlu_service.url, notice_worker=False)


@pytest.fixture(params=["UTC0", "LINT-14"], ids=["server-in-UTC", "server-at-UTC+14"])
def server_tz(request):
    """The server's own time zone (TZ), which no date a person sees may depend on: UTC, and
    UTC+14, where 23:30 in Beijing is already the next day. Restored after the test."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


class Clock:
    """A settable "now" for services that take a clock."""

    def __init__(self, moment):
        self.now = moment

    def __call__(self):
        return self.now


# A Redis database and a PostgreSQL database of the suite's own, emptied around each test.
# BIANMIN_TEST_REDIS_DB / BIANMIN_TEST_DB let two checkouts run their suites side by side.
TEST_REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('BIANMIN_TEST_REDIS_DB', '9')}"


@pytest.fixture
async def real_redis():
    from redis.asyncio import Redis

    client = Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


TEST_DATABASE = os.environ.get("BIANMIN_TEST_DB", "bianmin_test")
TEST_DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{TEST_DATABASE}"


@pytest.fixture(scope="session")
async def database():
    """A fresh PostgreSQL database, migrated with Alembic, for the whole session."""
    import asyncpg

    from bot.storage.db import open_database

    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {TEST_DATABASE}")
    await admin.close()
    async with open_database(TEST_DATABASE_URL) as sessions:
        yield sessions


@pytest.fixture
async def sessions(database):
    """The database, emptied before each test."""
    from sqlalchemy import text

    async with database.begin() as session:
        await session.execute(text(
            "TRUNCATE cases, case_materials, case_status_changes, domain_events, stored_files, "
            "service_slots, bookings, home_visits, notices, notice_attempts, notice_preferences, "
            "clerks, handoffs, handoff_messages, saved_replies, audit_log, review_questions, "
            "training_examples, matter_revisions, agents "
            "RESTART IDENTITY CASCADE"))
    return database
