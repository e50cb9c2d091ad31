"""Starting, stopping and restarting `bot serve` as an operator does: configuration errors
in one line, restarts after `kill -9`, a quick SIGTERM with a console open, several workers
started at once on an empty database."""

import asyncio
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.config import ROOT, ConfigError, Settings
from bot.console.accounts import Accounts
from bot.startup import check_port
from bot.storage.db import open_database
from bot.storage.tables import Clerk
from tests import serving
from tests.conftest import TEST_DATABASE, TEST_REDIS_URL

DEAD = "127.0.0.1:9"  # the discard port: nothing of ours ever listens there


def run_serve(**variables: str) -> subprocess.CompletedProcess[str]:
    env = serving.serve_env(NLU_URL="http://127.0.0.1:9", NLU_TOKEN="x", **variables)
    return subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("variables", "named", "expected"), [
    ({"BOT_PORT": "abc"}, "BOT_PORT", "1 到 65535"),
    ({"BOT_PORT": "99999"}, "BOT_PORT", "1 到 65535"),
    ({"NLU_TIMEOUT": "soon"}, "NLU_TIMEOUT", "之间的数"),
    ({"DATABASE_URL": "postgres://db/bianmin"}, "DATABASE_URL", "postgresql+asyncpg://"),
    ({"DATABASE_URL": f"postgresql+asyncpg://bot:s3cret-pw@{DEAD}/bianmin"}, "DATABASE_URL",
     "连不上数据库"),
    ({"REDIS_URL": f"redis://:s3cret-pw@{DEAD}/0"}, "REDIS_URL", "连不上 Redis"),
    ({"CLERK_TOKENS": "张三@no-such-window:s3cret-pw-0123456789"}, "CLERK_TOKENS",
     "没有这个窗口"),
    ({"CLERK_TOKENS": "张三@:s3cret-pw-0123456789"}, "CLERK_TOKENS", "姓名@窗口:令牌"),
])
def test_a_configuration_error_is_one_line_naming_the_variable(variables, named, expected,
                                                               database):
    done = run_serve(**variables)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"配置错误: {named}") and expected in line
    assert "s3cret-pw" not in done.stderr


@pytest.mark.parametrize("variable", ["BOT_PORT", "NLU_PORT"])
def test_a_busy_port_is_named_before_the_nlu_service_starts(variable, sessions):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        env = serving.serve_env(**{variable: port})  # NLU_PORT matters with no NLU_URL
        done = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"配置错误: {variable}")
    assert "已被别的进程占用" in done.stderr and "NLU service ready" not in done.stderr


def test_a_port_taken_on_ipv6_is_named_too():
    with socket.socket(socket.AF_INET6) as holder:
        holder.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            holder.bind(("::1", 0))
        except OSError:
            pytest.skip("this machine has no IPv6 loopback")
        holder.listen()
        with pytest.raises(ConfigError, match="已被别的进程占用"):
            check_port("BOT_PORT", "::1", holder.getsockname()[1])


def test_settings_name_the_variable_and_the_range():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"HANDOFF_ANSWER_MINUTES": "0"})
    assert raised.value.variable == "HANDOFF_ANSWER_MINUTES"
    assert Settings.from_env({"BOT_PORT": " 8081 "}).port == 8081


async def test_a_failing_statement_shows_no_parameter_values(sessions, caplog):
    await Accounts(sessions, None).add("li", "李四", "clerk", "civil", "password-li")
    async with sessions.begin() as session:
        hashed = (await session.scalar(select(Clerk.password_hash))) or ""
    with pytest.raises(IntegrityError) as raised:
        async with sessions.begin() as session:
            session.add(Clerk(username="li", name="身份证110101199003074518",
                              password_hash=hashed, role="clerk", active=True,
                              created_at=datetime.now(UTC)))
    shown = str(raised.value) + caplog.text
    assert "parameters hidden" in shown
    assert hashed not in shown and "110101199003074518" not in shown


async def test_after_kill_9_no_rasa_is_left_and_a_restart_comes_up(sessions, tmp_path):
    port, nlu_port = serving.free_ports(2)
    env = serving.serve_env(NLU_PORT=str(nlu_port), NLU_LOG=str(tmp_path / "rasa.log"))
    first = serving.start(env, port, tmp_path / "first.log")
    rasa: list[int] = []
    try:
        assert await serving.wait_up(first, port), (tmp_path / "first.log").read_text()
        rasa = serving.children(first.pid)
        assert rasa, "bot serve started no NLU service"
        cmdlines = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in rasa]
        assert all(b"--auth-token" not in line for line in cmdlines)  # the token is not in ps
        first.kill()
        await asyncio.to_thread(first.wait, 30)
        deadline = time.monotonic() + 30
        while any(map(serving.alive, rasa)) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not any(map(serving.alive, rasa)), "the NLU service outlived bot serve"
        second = serving.start(env, port, tmp_path / "second.log")
        try:
            assert await serving.wait_up(second, port), (tmp_path / "second.log").read_text()
            async with aiohttp.ClientSession() as client, client.post(
                    f"http://127.0.0.1:{port}/api/nlu/parse", json={"text": "几点上班"},
                    headers=serving.CLERK) as r:
                assert r.status == 200 and (await r.json())["intent"] == "ask_office_hours"
        finally:
            serving.stop(second)
    finally:
        serving.stop(first)
        for pid in rasa:
            serving.kill_quietly(pid)


async def test_sigterm_with_a_console_open_ends_the_stream_and_exits_quickly(
        remote_settings, sessions, real_redis, tmp_path):
    await Accounts(sessions, real_redis).add("zhou", "周五", "supervisor", None, "password-zh")
    [port] = serving.free_ports(1)
    env = serving.serve_env(NLU_URL=remote_settings.nlu_url,
                            NLU_TOKEN=str(remote_settings.nlu_token))
    process = serving.start(env, port, tmp_path / "serve.log")
    try:
        assert await serving.wait_up(process, port), (tmp_path / "serve.log").read_text()
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.post(f"{base}/console/login", data={
                    "username": "zhou", "password": "password-zh"}) as response:
                assert response.status == 200
            async with browser.get(f"{base}/console/events") as stream:
                assert await stream.content.readline() == b": connected\n"
                process.send_signal(signal.SIGTERM)
                # aiohttp's own shutdown timeout is 60 s: the open stream must not wait it out
                assert await asyncio.to_thread(process.wait, 10) == 0
                await asyncio.wait_for(stream.content.read(), 5)  # ended, not hanging
    finally:
        serving.stop(process)


async def test_three_workers_started_at_once_on_an_empty_database_all_come_up(
        remote_settings, real_redis, tmp_path):
    name = f"{TEST_DATABASE}_scale"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    env = serving.serve_env(NLU_URL=remote_settings.nlu_url, REDIS_URL=TEST_REDIS_URL,
                            NLU_TOKEN=str(remote_settings.nlu_token), DATABASE_URL=url)
    ports = serving.free_ports(3)
    logs = [tmp_path / f"worker{n}.log" for n in range(3)]
    workers = [serving.start(env, port, log) for port, log in zip(ports, logs, strict=True)]
    try:
        up = await asyncio.gather(*(serving.wait_up(w, p) for w, p in zip(workers, ports,
                                                                           strict=True)))
        assert all(up), [log.read_text()[-2000:] for log in logs]
        async with open_database(url, migrate=False) as sessions, sessions() as session:
            admins = await session.scalar(select(func.count()).select_from(Clerk)
                                          .where(Clerk.role == "admin"))
        assert admins == 1
        shown = [log.read_text() for log in logs]
        assert sum("first start, user admin" in text for text in shown) == 1
    finally:
        for worker in workers:
            serving.stop(worker)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
