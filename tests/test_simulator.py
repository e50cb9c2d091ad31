"""The simulator page in a real headless Chromium: a villager's chat as a center demos it."""

import dataclasses
import shutil

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.conftest import TEST_DATABASE_URL
from tests.test_apply import CLERK, CLERK_TOKEN
from tests.test_booking_chat import MONDAY_MORNING, MOTHER
from tests.test_wechat import REDIS_URL

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")


@pytest.fixture
async def page(remote_settings, sessions, tmp_path):
    from playwright.async_api import async_playwright

    settings = dataclasses.replace(remote_settings, redis_url=REDIS_URL, simulator=True,
                                   database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files",
                                   wechat_rate_limit=1000, clerk_tokens=f"李四:{CLERK_TOKEN}")
    # Appointments see Monday 2026-11-23 08:00, so that 「周六」 is always the same Saturday.
    server = TestServer(create_app(settings, clock=lambda: MONDAY_MORNING), host="127.0.0.1")
    await server.start_server()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(str(server.make_url("/simulator")))
        page.server = server
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



def chat(page):
    """Type into the simulator and wait for the bot's answer."""
    bots = page.locator(".row.bot")

    async def say(text):
        before = await bots.count()
        await page.fill("#text", text)
        await page.press("#text", "Enter")
        await page.wait_for_function(f"document.querySelectorAll('.row.bot').length > {before}")
        return await bots.last.inner_text()

    return say


async def test_a_villager_applies_with_a_photo_in_the_simulator(page, tmp_path):
    photo = tmp_path / "hukou.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"hukou book page" * 100)
    bots = page.locator(".row.bot")
    await bots.first.wait_for()

    say = chat(page)
    assert "给谁申请" in await say("我要申请高龄补贴")
    await say("1")
    await say("王秀英")
    await say("11010519491231002X")
    await say("13800001234")
    assert "第1/4项" in await say("石桥村")
    before = await bots.count()
    await page.set_input_files("#photo", str(photo))
    await page.wait_for_function(f"document.querySelectorAll('.row.bot').length > {before}")
    assert "收到【老人户口簿或居民身份证】的照片" in await bots.last.inner_text()
    for _ in range(3):
        await say("1")
    assert "受理编号" in await say("1")


async def test_a_saturday_slot_and_a_home_visit_booked_in_the_simulator(page):
    """Issue #5 is done when this works: a Saturday extended-hours slot for 残疾证 and a home
    visit for an 88-year-old mother, booked in the simulator, both seen in the clerk API."""
    await page.locator(".row.bot").first.wait_for()
    say = chat(page)
    assert "11月28日（周六）上午9:00（延时服务）" in await say("周六能去办残疾证吗，想约个时间")
    assert "姓名和手机号" in await say("1")
    assert "请核对" in await say("张明 13800001234")
    assert "预约成功" in await say("1")
    assert "给谁申请" in await say("俺娘88岁了走不动，能上门办高龄补贴不")
    await say("2")
    await say("1")
    assert "住在哪里" in await say(f"王秀英 {MOTHER}")
    assert "联系电话" in await say("石桥村3组")
    assert "哪些时间家里有人" in await say("13800001234")
    assert "高龄，88岁" in await say("2")
    assert "编号：SM" in await say("1")

    client = page.server.make_url("/api/clerk/")
    async with ClientSession(headers=CLERK) as session:
        async with session.get(f"{client}bookings?date=2026-11-28") as response:
            windows = (await response.json())["windows"]
        async with session.get(f"{client}home-visits") as response:
            visits = (await response.json())["home_visits"]
    [booking] = [b for w in windows for b in w["bookings"]]
    assert booking["kind"] == "extended" and booking["matter"] == "disability_certificate"
    [visit] = visits
    assert (visit["person"], visit["age"], visit["status"]) == ("王秀英", 88, "requested")
