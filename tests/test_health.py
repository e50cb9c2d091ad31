"""Liveness and readiness, and what the console says when Redis goes away under it: Redis is
reached through a local TCP relay the test can cut, as a network or a restart would."""

import asyncio
import dataclasses
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.console.accounts import Accounts
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL


class Relay:
    """Forwards TCP connections to Redis until `cut()`: then open ones drop and new ones are
    refused."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.writers: list[asyncio.StreamWriter] = []
        self.cut_off = False

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}{self.path}"

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self.writers.append(up_writer)
        if self.cut_off:  # cut while this one was still connecting upstream
            up_writer.close()
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def cut(self) -> None:
        self.cut_off = True
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


@pytest.fixture
async def relay(real_redis):
    relay = Relay(TEST_REDIS_URL)
    yield relay
    await relay.cut()


@pytest.fixture
async def client(remote_settings, sessions, relay, tmp_path):
    settings = dataclasses.replace(remote_settings, redis_url=await relay.start(),
                                   database_url=TEST_DATABASE_URL, files_dir=tmp_path)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client
    await client.close()


async def test_ready_when_database_redis_and_nlu_answer(client):
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready", "failed": []}


async def test_redis_down_is_not_ready_and_the_console_says_so_in_chinese(client, relay,
                                                                           sessions, real_redis):
    await Accounts(sessions, real_redis).add("li", "李四", "clerk", "civil", "password-li")
    await relay.cut()
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert await ready.json() == {"status": "unavailable", "failed": ["redis"]}
    assert (await client.get("/healthz")).status == 200  # alive: the process itself is fine
    page = await client.get("/console", cookies={"bm_console": "a-session"},
                            allow_redirects=False)
    assert page.status == 503
    assert "系统暂时连不上后台服务" in await page.text()
    login = await client.post("/console/login", data={"username": "li",
                                                              "password": "password-li"})
    assert login.status == 503


async def test_an_outage_is_logged_by_route_not_by_path(client, relay, caplog):
    """A path may hold a secret (the SMS receipt URL's): the outage line names the route."""
    await relay.cut()
    page = await client.get("/console/handoffs/31337", cookies={"bm_console": "a-session"})
    assert page.status == 503
    logged = [r.getMessage() for r in caplog.records if "backend unavailable" in r.getMessage()]
    assert logged == ["GET /console/handoffs/{handoff_id}: backend unavailable "
                      "(ConnectionError)"]


async def test_a_flood_of_readiness_probes_costs_one_round_of_checks(remote_settings, sessions,
                                                                     real_redis, tmp_path):
    """/readyz is open to anyone: 50 probes at once make one Rasa parse, not 50."""
    parses: list[str] = []

    async def model_parse(request: web.Request) -> web.Response:
        parses.append((await request.json())["text"])
        await asyncio.sleep(0.05)  # a parse takes a while: the other probes arrive meanwhile
        return web.json_response({"text": parses[-1], "entities": [], "intent_ranking": [],
                                  "intent": {"name": "greet", "confidence": 0.99}})

    rasa = web.Application()
    rasa.router.add_post("/model/parse", model_parse)
    async with TestServer(rasa) as fake_rasa:
        settings = dataclasses.replace(
            remote_settings, nlu_url=str(fake_rasa.make_url("")).rstrip("/"),
            redis_url=TEST_REDIS_URL, database_url=TEST_DATABASE_URL, files_dir=tmp_path)
        async with TestClient(TestServer(create_app(settings))) as client:
            before = len(parses)
            answers = await asyncio.gather(*(client.get("/readyz") for _ in range(50)))
            assert {answer.status for answer in answers} == {200}
            assert len(parses) - before == 1
