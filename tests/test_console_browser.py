"""Issue #15 in a real headless Chromium: a clerk's day at the console — a villager's photo
and voice opened from a handoff, a case found by phone number and its 受理回执 printed, a
walk-in booked, a handoff passed to another window, a misunderstood question taught and
published, a matter's materials edited, and no page showing a code instead of words."""

import asyncio
import dataclasses
import re
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from bot.app import publish_catalogue
from bot.config import Settings
from bot.storage.tables import Handoff
from bot.web.console import PUBLISHING
from bot.web.console_base import CONSOLE
from tests import test_console
from tests.media import photo_jpeg, voice_amr
from tests.test_apply import Phone, fill_in_applicant
from tests.test_console import MONDAY_MORNING, RAW_CODES
from tests.test_simulator import CHROMIUM, headless_chromium

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
app_client, clock = test_console.app_client, test_console.clock  # the console's fixtures


@pytest.fixture
def photo() -> bytes:
    return photo_jpeg()


@pytest.fixture
def voice() -> bytes:
    return voice_amr()


@pytest.fixture
async def chromium():
    async with headless_chromium() as browser:
        yield browser


@pytest.fixture
def desk(app_client, chromium):
    """`async with desk("li") as page`: a clerk's own browser window, signed in."""
    server = app_client.server

    @asynccontextmanager
    async def signed_in(login):
        context = await chromium.new_context(viewport={"width": 1280, "height": 900},
                                             base_url=str(server.make_url("/")))
        page = await context.new_page()
        await page.goto("/console/login")
        await page.fill("#username", login)
        await page.fill("#password", f"password-{login}")
        await page.click("#login")
        await page.wait_for_url("**/console")
        try:
            yield page
        finally:
            await context.close()

    return signed_in


async def test_a_clerk_opens_the_photo_and_voice_a_villager_sent(app_client, desk, photo,
                                                                  voice):
    villager = Phone(app_client, "o_browser_media")
    await villager.sends_photo(photo)
    await villager.says("我想问低保的事")
    await villager.says("转人工")
    await villager.sends_voice(voice, recognition="我娘的低保卡丢了")
    async with desk("li") as page:
        await page.click("#queue a[href^='/console/handoffs/']")
        thumb = page.locator("img.thumb")
        await thumb.wait_for()
        await page.wait_for_function("() => document.querySelector('img.thumb').complete")
        # a thumbnail, 240 pixels wide, that turns
        assert await thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [240, 180]
        await page.click("button.rotate")
        assert "rotate(90deg)" in await thumb.evaluate("img => img.style.transform")
        async with page.context.expect_page() as opened:
            await thumb.click()  # the full size, in a tab of its own, to turn and read
        full = await opened.value
        await full.wait_for_function("() => document.getElementById('photo').complete")
        assert await full.evaluate("document.getElementById('photo').naturalWidth") == 320
        # once turned on its side (the turn's animation over), the landscape photo leaves
        # 「旋转」 free to be clicked again
        await full.evaluate("""() => new Promise(done => {
            const photo = document.getElementById('photo');
            photo.addEventListener('transitionend', done, {once: true});
            document.getElementById('rotate').click(); })""")
        await full.click("#rotate", timeout=5_000)
        assert "rotate(180deg)" in await full.evaluate(
            "document.getElementById('photo').style.transform")
        # the voice plays: Chromium decodes it and knows how long it is
        assert "听写：我娘的低保卡丢了" in await page.inner_text("#messages")
        duration = await page.eval_on_selector("audio", """audio => new Promise((done, fail) => {
            audio.onloadedmetadata = () => done(audio.duration); audio.onerror = fail;
            audio.load(); })""")
        assert 1.5 < duration < 2.5


async def test_a_clerk_finds_a_case_by_phone_and_prints_its_receipt(app_client, desk):
    villager = Phone(app_client, "o_browser_case")
    await fill_in_applicant(villager)  # phone 13800001234
    reply = ""
    while "受理编号：" not in reply:
        reply = await villager.says("1")
    receipt = reply.split("受理编号：")[1].split("\n")[0]
    async with desk("li") as page:
        await page.click("header >> text=办件")
        await page.fill("#search-phone", "1234")
        await page.click("#search")
        await page.click(f"#cases >> text={receipt}")
        await page.click("#receipt-link")
        sheet = page.locator("#sheet")
        assert "受理回执" in await sheet.inner_text() and receipt in await sheet.inner_text()
        assert "1101**********002X" in await sheet.inner_text()
        await page.emulate_media(media="print")  # as the printer sees it: no menus, no button
        assert not await page.locator("header").is_visible()
        assert not await page.locator("#print").is_visible()
        pdf = await page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


async def test_a_clerk_books_a_walk_in(desk):
    async with desk("li") as page:
        await page.click("header >> text=代预约")
        await page.select_option("#matter", "dibao")
        await page.fill("#day", "2026-11-24")
        await page.click("#find-slots")
        await page.check("input[name=slot] >> nth=0")
        await page.fill("#name", "王秀英")
        await page.fill("#phone", "13800001234")
        await page.check("input[name=channel][value=phone]")
        await page.click("#book")
        booked = await page.inner_text("#booked")
        assert booked.startswith("已预约 YY") and "11月24日" in booked and "王秀英" in booked


async def test_a_handoff_goes_to_another_window(app_client, sessions, desk):
    villager = Phone(app_client, "o_browser_transfer")
    await villager.says("我想问低保的事")
    await villager.says("转人工")
    async with sessions() as session:
        handoff = await session.scalar(select(Handoff))
    async with desk("li") as li:
        await li.goto(f"/console/handoffs/{handoff.id}")
        await li.click("#claim")
        await li.select_option("#transfer-window", "social")
        await li.fill("#transfer-note", "是医保报销的事，请社保窗口回复")
        await li.click("#transfer")
        await li.wait_for_url("**/console")
    async with desk("zhou") as zhou:
        await zhou.click(f"#queue a[href='/console/handoffs/{handoff.id}']")
        assert "【转交说明，村民看不到】李四" in await zhou.inner_text("#messages")
        await zhou.click("#claim")
        assert await zhou.inner_text("#status") == "处理中"


async def test_a_misunderstood_question_is_taught_and_published(app_client, desk, tmp_path):
    services = app_client.server.app[CONSOLE]
    await app_client.server.app[CONSOLE].accounts.add("boss", "管理员甲", "admin", None,
                                                      "password-boss")
    await services.review.note("赶场天窗口开不开门嘛", "not_understood", MONDAY_MORNING)
    fed: list[str] = []

    def trainer(training):  # what Rasa would be given: training is not this test's subject
        fed.append((training.data / "nlu.yml").read_text(encoding="utf-8"))
        return tmp_path / "nlu-taught.tar.gz"

    async def publish() -> str:
        settings = dataclasses.replace(Settings.from_env({}), nlu_build_dir=tmp_path / "b")
        return await publish_catalogue(settings, services.editor,
                                       await services.review.taught(), trainer)

    services.publish = publish
    async with desk("li") as li:
        await li.click("#nav-review")
        row = li.locator("tr.review-row", has_text="赶场天窗口开不开门嘛")
        await row.locator("select[name=intent]").select_option("ask_office_hours")
        await row.locator("button.teach").click()
        assert "等管理员审核" in await li.inner_text("#pending")
    async with desk("boss") as boss:
        await boss.click("#nav-review")
        await boss.locator("tr.example-row", has_text="赶场天").locator("button.approve").click()
        assert "赶场天窗口开不开门嘛" in await boss.inner_text("#approved")
        await boss.click("header >> text=事项")
        await boss.click("#publish")
        await asyncio.gather(*app_client.server.app[PUBLISHING])  # trained in the background
        await boss.reload()
        report = await boss.inner_text("#publish-report")
        assert "检查通过" in report and "加入了 1 条" in report
    assert "赶场天窗口开不开门嘛" in fed[0]


async def test_an_admin_edits_a_matters_materials(app_client, desk):
    await app_client.server.app[CONSOLE].accounts.add("boss", "管理员甲", "admin", None,
                                                      "password-boss")
    async with desk("boss") as page:
        await page.click("header >> text=事项")
        await page.click("#edit-dibao")
        materials = await page.input_value("#materials")
        await page.fill("#materials", materials + "\n村委会出具的家庭情况说明｜原件｜1｜｜待核实")
        await page.click("#save")
        await page.locator("#saved").wait_for()
        await page.goto("/console/catalogue/dibao/notice")
        assert "村委会出具的家庭情况说明" in await page.inner_text("#sheet")
        # the bot tells villagers the new list too, without a restart (every worker looks
        # for edits every few seconds)
        villager, answer = Phone(app_client, "o_after_edit"), ""
        for _ in range(40):
            await villager.says("低保要带什么材料")
            answer = await villager.says("1")  # 农村低保
            if "村委会出具的家庭情况说明" in answer:
                break
            await asyncio.sleep(0.5)
        assert "村委会出具的家庭情况说明" in answer
        # a line the check refuses: said on the form, what was typed kept
        await page.goto("/console/catalogue/dibao/edit")
        await page.fill("#materials", "户口本｜原件｜很多份")
        await page.click("#save")
        assert "份数" in await page.inner_text("#problems")
        assert await page.input_value("#materials") == "户口本｜原件｜很多份"


async def test_no_page_a_clerk_can_reach_shows_a_code(app_client, desk):
    await app_client.server.app[CONSOLE].accounts.add("boss", "管理员甲", "admin", None,
                                                      "password-boss")
    villager = Phone(app_client, "o_browser_words")
    await fill_in_applicant(villager)
    reply = ""
    while "受理编号：" not in reply:
        reply = await villager.says("1")
    await villager.says("转人工")
    async with desk("boss") as page:
        seen: set[str] = set()
        todo = ["/console"]
        while todo:  # every page linked from another, within the console
            path = todo.pop()
            if path in seen or "logout" in path or ".csv" in path:
                continue
            seen.add(path)
            await page.goto(path)
            text = await page.inner_text("body")
            raw = RAW_CODES.search(text)
            assert raw is None, (path, text[max(0, raw.start() - 60):raw.end() + 60])
            assert "<" not in await page.title(), path
            todo += [href for href in await page.eval_on_selector_all(
                "a[href^='/console']", "links => links.map(a => a.getAttribute('href'))")
                if href not in seen]
        assert len(seen) > 15
