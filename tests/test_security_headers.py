"""Security headers on every response, no versions in `Server:`, the console's cookie `Secure`
over HTTPS (directly or behind a trusted proxy) — issue #11, finding 10."""

import asyncio
import dataclasses
import os

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.console.accounts import Accounts
from bot.web.console_base import CONSOLE
from tests.conftest import TEST_DATABASE_URL
from tests.test_wechat import wechat_settings

PATHS = ["/healthz", "/console/login", "/console", "/no-such-page", "/simulator",
         "/simulator/app.js", "/console/static/console.js", "/api/clerk/cases"]


@pytest.fixture
async def serve(remote_settings, real_redis, sessions, tmp_path):
    clients = []

    async def start(**changes):
        settings = dataclasses.replace(
            wechat_settings(remote_settings), database_url=TEST_DATABASE_URL,
            files_dir=tmp_path / "files", simulator=True, **changes)
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        if not clients:  # one database for both
            await client.server.app[CONSOLE].accounts.add("li", "李四", "clerk", "civil",
                                                          "password-li")
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def test_every_response_carries_the_security_headers(serve):
    client = await serve()
    for path in PATHS:
        response = await client.get(path, allow_redirects=False)
        headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["Server"] == "bianmin-bot", path  # not aiohttp/3.x Python/3.11


async def test_pages_have_no_inline_script_for_the_policy_to_block(serve):
    client = await serve()
    simulator = await (await client.get("/simulator")).text()
    assert "<script>" not in simulator and 'src="/simulator/app.js"' in simulator
    script = await client.get("/simulator/app.js")
    assert script.status == 200 and "crypto.subtle" in await script.text()
    console = await client.get("/console/static/console.js")
    assert console.status == 200 and "EventSource" in await console.text()


async def _login_cookie(client, headers=None):
    response = await client.post("/console/login", allow_redirects=False, headers=headers,
                                 data={"username": "li", "password": "password-li"})
    assert response.status == 302
    return response.cookies["bm_console"]


async def test_an_error_page_s_way_back_is_a_link_the_policy_allows(serve):
    client = await serve()
    await _login_cookie(client)
    response = await client.get("/console/figures")  # a clerk, not the director
    page = await response.text()
    assert response.status == 403 and "您的角色不能做这件事" in page
    assert "javascript:" not in page and '<a href="/console">' in page


async def test_the_session_cookie_is_secure_behind_a_trusted_https_proxy(serve):
    https = {"X-Forwarded-Proto": "https"}
    trusting = await serve(trust_proxy=True)
    assert (await _login_cookie(trusting, https))["secure"]
    assert not (await _login_cookie(trusting))["secure"]  # plain HTTP
    direct = await serve()  # no proxy configured: anyone could send the header
    assert not (await _login_cookie(direct, https))["secure"]


async def test_a_proxy_that_is_not_trusted_is_pointed_out_once(serve, caplog):
    direct = await serve()
    for _ in range(3):
        await _login_cookie(direct, {"X-Forwarded-For": "203.0.113.7"})
    warned = [r for r in caplog.records if "TRUST_PROXY is off" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelname == "WARNING"


async def test_behind_a_trusted_proxy_logins_are_locked_by_the_clients_address(serve):
    """Behind a proxy every peer is the proxy: lockout by address must count the client
    the proxy saw, or twenty wrong tries by anyone would lock out every clerk."""
    trusting = await serve(trust_proxy=True)
    for n in range(20):
        response = await trusting.post(
            "/console/login", allow_redirects=False, data={
                "username": f"nobody{n}", "password": "wrong-password"},
            headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status in (401, 429)
    locked = await trusting.post("/console/login", allow_redirects=False, data={
        "username": "li", "password": "password-li"},
        headers={"X-Forwarded-For": "203.0.113.7"})
    assert locked.status == 429
    # Another clerk behind the same proxy signs in (a first hop the client wrote is ignored).
    other = {"X-Forwarded-For": "203.0.113.7, 198.51.100.20"}
    assert (await _login_cookie(trusting, other))["httponly"]


async def _login(client, address, password):
    return (await client.post("/console/login", allow_redirects=False, headers={
        "X-Forwarded-For": address}, data={"username": "li", "password": password})).status


async def test_a_stranger_s_wrong_passwords_do_not_lock_the_clerk_out(serve, sessions,
                                                                       real_redis):
    """Anyone may type a clerk's name: five wrong passwords lock that name from the guesser's
    address only; the clerk at her own desk signs in. A new password clears every lock."""
    trusting = await serve(trust_proxy=True)
    statuses = [await _login(trusting, "203.0.113.7", f"wrong-{n}") for n in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    assert await _login(trusting, "198.51.100.20", "password-li") == 302
    for n in range(4):  # now she mistypes five times at her desk, and is locked there
        await _login(trusting, "198.51.100.20", f"typo-{n}")
    assert await _login(trusting, "198.51.100.20", "typo-4") == 429
    await Accounts(sessions, real_redis).set_password("li", "new-password-li", "admin")
    assert await _login(trusting, "198.51.100.20", "new-password-li") == 302


async def test_downloads_left_halfway_leave_no_file_open(serve):
    """The console reloads itself on every alert, often while its script is still coming:
    the script is served from memory, so nothing is left open for the collector to find."""
    client = await serve()
    for _ in range(20):
        _, writer = await asyncio.open_connection(client.server.host, client.server.port)
        writer.write(b"GET /console/static/console.js HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        writer.close()  # gone before the answer
    response = await client.get("/console/static/console.js")
    assert response.status == 200 and "EventSource" in await response.text()
    assert response.headers["Content-Type"].startswith("application/javascript")
    opened = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
              if os.path.exists(f"/proc/self/fd/{fd}")]
    assert not [path for path in opened if path.endswith(("console.js", "simulator.js"))]
