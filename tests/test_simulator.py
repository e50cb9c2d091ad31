"""The simulator page in a real headless Chromium: a villager's chat as a center demos it."""

import dataclasses
import shutil

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.test_wechat import REDIS_URL

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")


@pytest.fixture
async def page(remote_settings, tmp_path):
    from playwright.async_api import async_playwright

    settings = dataclasses.replace(remote_settings, redis_url=REDIS_URL, simulator=True)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(str(server.make_url("/simulator")))
        yield page
        await page.screenshot(path=str(tmp_path / "simulator.png"))
        await browser.close()
    await server.close()


async def test_a_villager_chats_in_the_simulator(page):
    bot_bubbles = page.locator(".row.bot .bubble")
    await bot_bubbles.first.wait_for()
    assert "示例镇便民服务中心" in await bot_bubbles.first.inner_text()

    await page.fill("#text", "俺娘想申请低保都要带啥")
    await page.click("#send")
    await page.wait_for_function("document.querySelectorAll('.row.bot').length >= 2")
    assert "一寸免冠照片 2张" in await bot_bubbles.nth(1).inner_text()

    await page.fill("#text", "要多久")
    await page.press("#text", "Enter")
    await page.wait_for_function("document.querySelectorAll('.row.bot').length >= 3")
    assert "34个工作日" in await bot_bubbles.nth(2).inner_text()

    await page.click(".chips button[data-text='几点上班']")
    await page.wait_for_function("document.querySelectorAll('.row.bot').length >= 4")
    assert "上班时间" in await bot_bubbles.nth(3).inner_text()
    assert await page.locator(".row.me").count() == 3
