"""Console accounts on PostgreSQL and Redis: wrong passwords locked out and audited, hashing
off the event loop, sessions ended by `bot clerk passwd/disable` and after twelve hours."""

import asyncio
import hashlib
import os
import subprocess
import sys
import threading
from datetime import timedelta

from sqlalchemy import select

from bot.config import ROOT
from bot.console.accounts import Accounts
from bot.storage.tables import AuditEntry
from tests import test_console
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, Clock
from tests.test_console import MONDAY_MORNING, Clerk

app_client, clock = test_console.app_client, test_console.clock  # the console's fixtures


async def bot_clerk(*args: str) -> subprocess.CompletedProcess[str]:
    """`bot clerk …` as an operator runs it, on the tests' database and Redis (in a thread:
    the app under test keeps its event loop meanwhile)."""
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli", "clerk", *args], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=120)


async def audited(sessions, action):
    async with sessions() as session:
        return [(e.actor, e.target, e.after) for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


async def test_wrong_passwords_lock_the_login_with_429_and_are_audited(app_client, sessions):
    clerk = Clerk(app_client)
    statuses = [(await clerk.login("li", f"wrong-{n}"))[0] for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # the fifth wrong one locks
    async with clerk.session.post(app_client.server.make_url("/console/login"), data={
            "username": "li", "password": "password-li"}) as response:
        assert response.status == 429  # the right password, too late
        assert response.headers["Retry-After"] == "900"
        assert "登录失败次数太多，请15分钟后再试" in await response.text()
    assert await audited(sessions, "login.failed") == [
        ("li", "clerk:li", {"ip": "127.0.0.1"})] * 5
    assert await audited(sessions, "login.locked") == [
        ("li", "user_ip:li@127.0.0.1", {"tries": 5, "seconds": 900})]
    other = Clerk(app_client)
    assert (await other.login("zhou", "password-zhou"))[0] == 200  # the address is not locked
    await clerk.close()
    await other.close()


async def test_a_burst_of_parallel_wrong_passwords_gets_five_tries(app_client, sessions):
    clerk = Clerk(app_client)
    tries = await asyncio.gather(*(clerk.login("li", f"wrong-{n}") for n in range(50)))
    statuses = sorted(status for status, _ in tries)
    assert statuses == [401] * 4 + [429] * 46  # each try counted before its password is
    assert len(await audited(sessions, "login.failed")) == 5
    await clerk.close()


async def test_wrong_passwords_from_one_address_lock_every_login_from_it(app_client,
                                                                       sessions):
    clerk = Clerk(app_client)
    for n in range(20):  # a different name each time: no name reaches its own limit
        assert (await clerk.login(f"guess-{n}", "password"))[0] in (401, 429)
    assert (await clerk.login("wang", "password-wang"))[0] == 429
    assert [target for _, target, _ in await audited(sessions, "login.locked")] == [
        "ip:127.0.0.1"]
    await clerk.close()


async def test_a_login_s_password_hashing_leaves_the_event_loop_free(app_client,
                                                                    monkeypatch):
    real_scrypt = hashlib.scrypt
    hashing, gate, opened = threading.Event(), threading.Event(), []

    def scrypt(*args, **kwargs):
        hashing.set()
        opened.append(gate.wait(timeout=10))  # only a free event loop can open the gate
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    clerk = Clerk(app_client)
    login = asyncio.create_task(clerk.login("li", "password-li"))
    await asyncio.to_thread(hashing.wait, 10)
    gate.set()  # this coroutine runs while the password is being checked
    assert (await login)[0] == 200
    assert opened == [True]
    await clerk.close()


async def test_a_disabled_clerk_s_open_session_is_refused_at_once(app_client, sessions):
    clerk = Clerk(app_client)
    await clerk.login("li", "password-li")
    await clerk.get("/console")
    done = await bot_clerk("disable", "li")
    assert done.returncode == 0, done.stderr
    await clerk.get("/console", status=302)  # to the login page
    await clerk.post("/console/handoffs/1/claim", status=401)
    assert (await clerk.login("li", "password-li"))[0] == 401
    assert (await bot_clerk("enable", "li")).returncode == 0
    await clerk.get("/console", status=302)  # re-enabling does not revive the old session
    assert (await clerk.login("li", "password-li"))[0] == 200
    assert [(actor, target) for actor, target, _ in await audited(sessions, "clerk.disable")
            ] == [("cli", "clerk:li")]
    await clerk.close()


async def test_a_disabled_clerk_s_open_queue_page_stops_receiving_handoffs(app_client):
    """The live queue's event stream ends at its next line once the clerk is disabled: no
    new villager's request reaches a revoked session."""
    from bot.web.console_base import CONSOLE
    from tests.test_apply import Phone

    clerk = Clerk(app_client)
    await clerk.login("li", "password-li")
    try:
        async with clerk.session.get(clerk.server.make_url("/console/events")) as stream:
            assert await stream.content.readline() == b": connected\n"
            await app_client.server.app[CONSOLE].accounts.set_active("li", False, by="test")
            assert "转人工" in await Phone(app_client, "o_after").says("我要找人工")
            rest = await asyncio.wait_for(stream.content.read(), 10)  # ended, not hanging
            assert b"data:" not in rest
    finally:
        await clerk.close()


async def test_a_new_password_ends_the_clerk_s_open_sessions(app_client):
    desk, home, colleague = Clerk(app_client), Clerk(app_client), Clerk(app_client)
    for browser, (name, password) in ((desk, ("li", "password-li")),
                                      (home, ("li", "password-li")),
                                      (colleague, ("zhao", "password-zhao"))):
        await browser.login(name, password)
    done = await bot_clerk("passwd", "li", "--password", "new-password-li")
    assert done.returncode == 0, done.stderr
    assert "重新登录" in done.stdout and "new-password-li" not in done.stdout
    await desk.get("/console", status=302)
    await home.get("/console", status=302)
    await colleague.get("/console")  # another clerk's session is untouched
    assert (await desk.login("li", "password-li"))[0] == 401
    assert (await desk.login("li", "new-password-li"))[0] == 200
    for browser in (desk, home, colleague):
        await browser.close()


async def test_clerk_commands_say_plainly_when_the_login_exists_or_does_not(sessions):
    add = ("add", "sun", "--name", "孙七", "--window", "civil", "--password", "password-sun")
    assert (await bot_clerk(*add)).returncode == 0
    again = await bot_clerk(*add)
    assert again.returncode == 1
    assert "账号 sun 已经存在" in again.stderr and "bot clerk passwd sun" in again.stderr
    assert "Traceback" not in again.stderr
    for command in (("passwd", "nobody"), ("disable", "nobody")):
        missing = await bot_clerk(*command)
        assert missing.returncode == 1 and "没有账号 nobody" in missing.stderr
        assert "Traceback" not in missing.stderr


async def test_a_session_ends_twelve_hours_after_signing_in_however_busy(sessions,
                                                                        real_redis):
    now = Clock(MONDAY_MORNING)
    accounts = Accounts(sessions, real_redis, now)
    await accounts.add("li", "李四", "clerk", "civil", "password-li")
    session_id = await accounts.sign_in("li", "password-li", "10.0.0.1")
    assert session_id is not None
    for _ in range(47):  # busy all day: a request every quarter of an hour
        now.now += timedelta(minutes=15)
        assert await accounts.who(session_id) is not None
    now.now += timedelta(minutes=15, seconds=1)
    assert await accounts.who(session_id) is None
