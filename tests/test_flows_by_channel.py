"""Issue #16 item 4, each flow as one conversation over WeChat and over SMS: the same words
typed, the same answers read (by SMS: every message ≤ 70 characters, parts put together).
Choices are answered by number; what the villager types besides is a question, a name, an
ID number, a phone number — and, for applying, the village. The conversations `…_by_numbers`
type nothing but digits, a name, an ID number and a phone number: WeChat's menu is tapped,
and by SMS a number brings the menu by number."""

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.catalogue.menu import load_menu
from bot.config import Settings
from bot.web import console_base
from bot.web.simulator import FAKE_WECHAT_URL
from integrations.fakes.sms import start_fake_sms
from tests.test_apply import ID_NUMBER, Phone
from tests.test_booking_chat import MOTHER
from tests.test_notices import SMS_TEMPLATES, until
from tests.test_numbers_only import SENDABLE
from tests.test_sms_channel import MONDAY, VILLAGER, SmsPhone, app_settings
from tests.test_wechat import event_xml, post, reply_text

CONTACT = "13912345678"  # typed where a phone is asked; the SMS villager writes from it
LONG_REPLY = ("您好，低保要带户口簿、身份证、家庭收入情况说明和银行卡，"
              "家里有残疾人的再带残疾证。材料齐了周一到周五上午9点到12点、下午1点到5点"
              "都可以来民政窗口办理，赶集那天中午也有人。")


class WeChatPhone(Phone):
    """A follower's WeChat; what clerks send arrives as customer-service messages."""

    def __init__(self, client):
        super().__init__(client, "o_by_wechat")
        self.read = 0

    async def notices(self):
        url = f"{self.client.server.app[FAKE_WECHAT_URL]}/fake/outbox?openid={self.user}"

        async def arrived():
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                sent = [m["text"]["content"] for m in await response.json() if "text" in m]
            return sent if len(sent) > self.read else None

        sent = await until(arrived)
        fresh, self.read = sent[self.read:], len(sent)
        return "\n".join(fresh)


class TextingPhone(SmsPhone):
    async def notices(self):
        return self.joined(await self.new_messages())


@pytest.fixture(params=["wechat", "sms"])
async def phone(request, remote_settings, real_redis, sessions, tmp_path):
    async with start_fake_sms(SMS_TEMPLATES) as sms:
        sms.state.aliyun_daily = 1000
        settings = app_settings(remote_settings, sms, "aliyun", tmp_path,
                                sms_number_daily_limit=1000, sms_reply_daily_cap=1000,
                                wechat_rate_limit=1000)
        async with TestClient(TestServer(create_app(settings, clock=lambda: MONDAY))) as client:
            yield WeChatPhone(client) if request.param == "wechat" else \
                TextingPhone(client, sms, sessions, "aliyun", VILLAGER)


async def test_ask(phone):
    assert "1. 农村低保" in await phone.says("低保要带啥")
    answer = await phone.says("1")
    assert "户主居民身份证" in answer and "4 多久" in answer
    assert "34个工作日" in await phone.says("4")  # from the numbered menu


async def test_apply_then_progress(phone):
    assert "给谁申请" in await phone.says("我要申请高龄补贴")
    assert "姓名" in await phone.says("1")  # 1 本人
    assert "身份证号" in await phone.says("王秀英")
    assert "哪个村" in await phone.says(f"{ID_NUMBER} 电话{CONTACT}")
    reply = await phone.says("石桥村")
    for _ in range(10):  # each paper: 1 到窗口再交
        if "请核对" in reply:
            break
        assert "回复 1 到窗口再交" in reply
        reply = await phone.says("1")
    assert "139****5678" in reply
    receipt = await phone.says("1")
    assert "受理编号" in receipt
    number = receipt.split("受理编号：")[1][:13]
    assert number in await phone.says("办到哪了")


async def test_book(phone):
    offered = await phone.says("我想周六去办低保")
    assert "1. 11月28日（周六）上午9:00" in offered
    await phone.says("1")
    summary = await phone.says(f"王秀英 {CONTACT}")
    assert "139****5678" in summary and "回复 1 确认预约" in summary
    assert "预约成功！预约号：YY" in await phone.says("1")
    assert "11月28日（周六）上午9:00" in await phone.says("我的预约")


async def test_home_visit(phone):
    times = await phone.says(f"我要给我娘王秀英申请上门办高龄补贴，她88了，身份证{MOTHER}，"
                             f"电话{CONTACT}，石桥村")
    assert "1. 11月24日（周二）上午" in times
    summary = await phone.says("1")
    assert "高龄，88岁" in summary and "139****5678" in summary
    assert "编号：SM" in await phone.says("1")


async def test_handoff_and_rating(phone):
    assert "已为您转人工" in await phone.says("转人工")
    desk = phone.client.server.app[console_base.CONSOLE].handoffs
    [waiting] = await desk.queue(None)
    await desk.claim(waiting.id, "li")
    await desk.reply(waiting.id, "li", "李四", LONG_REPLY)  # by SMS: parts of ≤ 70
    assert LONG_REPLY.replace("\n", "") in (await phone.notices()).replace("\n", "")
    await desk.close(waiting.id, "li")
    assert "回复数字为我们打分：1 非常满意" in await phone.notices()
    assert "谢谢您的评价" in await phone.says("1")
    assert "记下了" in await phone.says("等的时间有点长")


# Issue #16 item 4 over both channels: digits only (and a name, an ID number, a phone number).
MENU_KEYS = [item.key for button in load_menu(Settings.from_env({}).catalogue_dir).buttons
             for item in button.items]


async def opens(phone, key):
    """A menu item: tapped on WeChat; by SMS, which has no menu, a number with nothing to
    choose brings the menu by number, and the item's number opens it."""
    if isinstance(phone, WeChatPhone):
        _, body = await post(phone.client, event_xml("CLICK", user=phone.user, key=key))
        return reply_text(body)
    assert "回复数字也行" in await phone.says("1")
    return await phone.says(str(MENU_KEYS.index(key) + 1))


async def sends(phone, text):
    assert SENDABLE.fullmatch(text), f"typed more than numbers: {text}"
    return await phone.says(text)


async def test_ask_by_numbers(phone):
    assert "1. 低保、救助" in await opens(phone, "MENU_GUIDE")
    assert "1. 最低生活保障" in await sends(phone, "1")
    assert "1. 农村低保" in await sends(phone, "1")
    assert "户主居民身份证" in await sends(phone, "1")


async def test_apply_then_progress_by_numbers(phone):
    await opens(phone, "MENU_APPLY")
    assert "1. 高龄补贴" in await sends(phone, "2")
    await sends(phone, "1")
    await sends(phone, "1")  # for myself
    assert "身份证号" in await sends(phone, "王秀英")
    reply = await sends(phone, ID_NUMBER)
    if "电话" in reply:  # by SMS the number written from is the contact
        reply = await sends(phone, CONTACT)
    assert "1. 石桥村" in reply
    reply = await sends(phone, "1")
    for _ in range(10):  # each paper: 1 到窗口再交
        if "请核对" in reply:
            break
        reply = await sends(phone, "1")
    receipt = await sends(phone, "1")
    number = receipt.split("受理编号：")[1][:13]
    assert number in await opens(phone, "MENU_PROGRESS")


async def test_book_by_numbers(phone):
    await opens(phone, "MENU_BOOK")
    assert "1. 残疾人证" in await sends(phone, "3")
    assert "3. 周六" in await sends(phone, "1")
    assert "（周六）" in await sends(phone, "3")
    reply = await sends(phone, "1")
    if "姓名和手机号" in reply:
        reply = await sends(phone, f"李红 {CONTACT}")
    elif "姓名" in reply:  # by SMS only the name is missing
        reply = await sends(phone, "李红")
    assert "回复 1 确认预约" in reply
    assert "预约成功" in await sends(phone, "1")


async def test_home_visit_by_numbers(phone):
    assert "2. 家里人" in await opens(phone, "MENU_HOME_VISIT")
    await sends(phone, "2")
    assert "姓名和身份证号" in await sends(phone, "1")
    assert "1. 高龄补贴" in await sends(phone, f"王秀英 {MOTHER}")
    reply = await sends(phone, "1")
    assert "1. 石桥村" in reply
    assert "石桥村几组" in await sends(phone, "1")
    reply = await sends(phone, "3")
    if "联系电话" in reply:
        reply = await sends(phone, CONTACT)
    summary = await sends(phone, "1")
    assert "地址：石桥村3组" in summary
    assert "编号：SM" in await sends(phone, "1")


async def test_handoff_and_rating_by_numbers(phone):
    assert "已为您转人工" in await opens(phone, "MENU_HUMAN")
    desk = phone.client.server.app[console_base.CONSOLE].handoffs
    [waiting] = await desk.queue(None)
    await desk.claim(waiting.id, "li")
    await desk.close(waiting.id, "li")
    assert "回复数字为我们打分" in await phone.notices()
    assert "谢谢您的评价" in await sends(phone, "1")
