"""Issue #16 item 4: numbers only. Each flow is completed over WeChat by menu taps and digits;
the only other things a villager sends are a name, an ID number and a phone number — and a
bare number with nothing to choose brings the menu by number, never a guess."""

import re
from datetime import date

import pytest
import yaml
from sqlalchemy import select

from bot.catalogue.loader import load_catalogue
from bot.catalogue.reading import CatalogueError
from bot.catalogue.topics import load_topics
from bot.config import Settings
from bot.storage.tables import Handoff
from tests import test_console
from tests.test_apply import Phone
from tests.test_console import Clerk, until
from tests.test_wechat import event_xml, post, reply_text

app_client, clock = test_console.app_client, test_console.clock

# What a villager who cannot type may still send: digits (several, for times), a name, an ID
# number, a phone number, or a name beside one of those.
SENDABLE = re.compile(r"^(\d{1,2}( \d{1,2})*|[\u4e00-\u9fa5]{2,4}|\d{17}[\dX]|1\d{10}"
                      r"|[\u4e00-\u9fa5]{2,4} (\d{17}[\dX]|1\d{10}))$")


def id_number(born: date, serial: str = "002") -> str:
    """A valid 18-digit ID number (GB 11643 check digit)."""
    body = f"110105{born:%Y%m%d}{serial}"
    total = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
                                                  8, 4, 2), strict=True))
    return body + "10X98765432"[total % 11]


class Villager(Phone):
    """Taps the menu and sends only what SENDABLE allows."""

    async def taps(self, key):
        _, body = await post(self.client, event_xml("CLICK", user=self.user, key=key))
        return reply_text(body)

    async def says(self, text):
        assert SENDABLE.fullmatch(text), f"typed more than numbers: {text}"
        return await super().says(text)


async def test_asking_what_to_bring_by_numbers(app_client):
    villager = Villager(app_client, "o_digits_ask")
    assert "1. 低保、救助" in await villager.taps("MENU_GUIDE")
    assert "【低保、救助】\n1. 最低生活保障" in await villager.says("1")
    assert "1. 农村低保" in await villager.says("1")  # the situation changes the list
    answer = await villager.says("1")
    assert "【最低生活保障(低保)】" in answer and "户口簿" in answer
    # a topic longer than a page turns over with its last number
    villager = Villager(app_client, "o_digits_pages")
    await villager.taps("MENU_GUIDE")
    first = await villager.says("4")
    assert first.endswith("9. 下一页\n回复数字就行。")
    assert "1. 居住证" in await villager.says("9")


async def test_a_bare_number_brings_the_menu_by_number(app_client):
    villager = Villager(app_client, "o_digits_menu")
    shown = await villager.says("1")
    assert shown.startswith("这个数字现在没有对应的事。\n回复数字也行：\n1. 要带什么材料")
    assert "中心上班时间" in shown
    assert "上班时间" in await villager.says("3")  # the third item, as if tapped


async def test_applying_and_reading_progress_by_numbers(app_client):
    villager = Villager(app_client, "o_digits_apply")
    await villager.taps("MENU_APPLY")
    assert "1. 高龄补贴" in await villager.says("2")
    assert "给谁申请" in await villager.says("1")
    assert "姓名" in await villager.says("1")
    assert "身份证号" in await villager.says("王秀英")
    assert "电话" in await villager.says(id_number(date(1938, 5, 12)))
    assert "1. 石桥村" in await villager.says("13800001234")  # the village by number
    reply = await villager.says("1")
    for _ in range(10):  # each paper: 1 到窗口再交
        if "请核对" in reply:
            break
        reply = await villager.says("1")
    assert "村（社区）：石桥村" in reply
    receipt = await villager.says("1")
    number = receipt.split("受理编号：")[1][:13]
    assert number in await villager.taps("MENU_PROGRESS")


async def test_booking_a_saturday_by_numbers(app_client):
    villager = Villager(app_client, "o_digits_book")
    await villager.taps("MENU_BOOK")
    assert "1. 残疾人证" in await villager.says("3")
    assert "3. 周六" in await villager.says("1")
    offered = await villager.says("3")
    assert "（周六）" in offered and "1. " in offered
    assert "姓名和手机号" in await villager.says("1")
    assert "回复 1 确认预约" in await villager.says("李红 13800001234")
    assert "预约成功" in await villager.says("1")


async def test_a_home_visit_by_numbers(app_client):
    villager = Villager(app_client, "o_digits_visit")
    assert "2. 家里人" in await villager.taps("MENU_HOME_VISIT")
    assert "1. 年满80岁的老人" in await villager.says("2")
    assert "姓名和身份证号" in await villager.says("1")
    assert "1. 高龄补贴" in await villager.says(f"王秀英 {id_number(date(1938, 5, 12))}")
    assert "1. 石桥村" in await villager.says("1")  # the village by number
    assert "石桥村几组" in await villager.says("1")  # then its 组, by number too
    assert "联系电话" in await villager.says("3")
    assert "可以选几个" in await villager.says("13800001234")
    summary = await villager.says("1 2")
    assert "办什么：高龄补贴" in summary and "地址：石桥村3组" in summary
    assert "上门服务申请已提交" in await villager.says("1")


async def test_a_person_and_a_rating_by_numbers(app_client, sessions):
    villager = Villager(app_client, "o_digits_person")
    assert "已为您转人工" in await villager.taps("MENU_HUMAN")
    async with sessions() as session:
        handoff = await session.scalar(select(Handoff).where(Handoff.user_id == villager.user))
    clerk = Clerk(app_client)
    try:
        await clerk.login("li", "password-li")
        await clerk.post(f"/console/handoffs/{handoff.id}/claim")
        await clerk.post(f"/console/handoffs/{handoff.id}/close")
    finally:
        await clerk.close()
    await until(lambda: test_console.outbox(app_client, villager.user))
    assert "谢谢您的评价" in await villager.says("1")
    async with sessions() as session:
        assert (await session.get(Handoff, handoff.id)).rating == 1


def test_every_matter_can_be_picked_and_a_wrong_topics_file_says_why(tmp_path):
    directory = Settings.from_env({}).catalogue_dir
    catalogue = load_catalogue(directory)
    topics = load_topics(directory, catalogue)
    reachable = {m.id for n in range(1, len(topics.topics) + 1)
                 for m in topics.matters_of(n, catalogue)}
    assert reachable == {m.id for m in catalogue}
    (tmp_path / "topics.yml").write_text(yaml.safe_dump({"topics": [
        {"name": "低保", "matters": ["dibao", "no_such_matter"]}]}, allow_unicode=True),
        encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        load_topics(tmp_path, catalogue)
    said = str(refused.value)
    assert "没有这个事项：no_such_matter" in said and "senior_allowance: 不在任何一类里" in said
