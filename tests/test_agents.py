"""Issue #17, village agents, as they use it: a clerk registers an agent, who binds their
WeChat with the code, files 高龄补贴 for an old villager who agrees by the code sent to her
phone, finds it in the village's list, gets its 补正 notice and sends the photo; the
villager's own SMS of that notice is lost (her phone was off) and the notice waits on the
village's sheet for the agent to carry. Real NLU, PostgreSQL, Redis; the fake WeChat API
and the fake Aliyun SMS."""

import html
import re
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.agents.service import AgentService
from bot.app import create_app
from bot.storage.tables import Case, NoticeAttempt
from bot.web.console_base import CONSOLE
from bot.web.simulator import FAKE_WECHAT_URL
from integrations.fakes.sms import start_fake_sms
from tests.test_apply import CLERK_TOKEN, ID_NUMBER, Phone, clerk_moves
from tests.test_console import Clerk
from tests.test_console_agents import CODE, register
from tests.test_notices import SMS_TEMPLATES, until
from tests.test_sms_channel import MONDAY, TOKEN, app_settings

OLD_VILLAGER = "13812345678"  # 王秀英's phone: the consent code and her notices go there
AGENT_PHONE = "13900007777"


@pytest.fixture
async def center(remote_settings, real_redis, sessions, tmp_path):
    async with start_fake_sms(SMS_TEMPLATES) as sms:
        settings = app_settings(remote_settings, sms, "aliyun", tmp_path,
                                wechat_rate_limit=1000,
                                clerk_tokens=f"民政窗口李四@civil:{CLERK_TOKEN}")
        async with TestClient(TestServer(create_app(settings, clock=lambda: MONDAY))) as client:
            await client.server.app[CONSOLE].accounts.add("sun", "孙主管", "supervisor", None,
                                                          "password-sun")
            supervisor = Clerk(client)
            await supervisor.login("sun", "password-sun")
            yield client, sms, supervisor
            await supervisor.close()


async def wechat_received(client, openid, count):
    """The first `count` messages the fake WeChat API took for `openid`, once they came."""
    url = f"{client.server.app[FAKE_WECHAT_URL]}/fake/outbox?openid={openid}"

    async def arrived():
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            sent = await response.json()
        return sent if len(sent) >= count else None

    return await until(arrived)


async def test_an_agent_files_for_an_old_villager_and_carries_what_did_not_reach_her(
        center, sessions):
    client, sms, supervisor = center
    registered = await register(supervisor, name="赵建国", phone=AGENT_PHONE, village=["柏树村"])
    code = CODE.search(registered).group(1)
    agent = Phone(client, "o_agent_zhao")

    assert "您还不是登记的代办员" in await agent.says("代办菜单")
    assert "您还不是登记的代办员" not in await agent.says("代办")  # a villager's word
    assert "绑定码不对" in await agent.says("绑定 00000000")
    assert "绑定好了，赵建国！您负责：柏树村" in await agent.says(f"绑定 {code}")
    assert "绑定码不对" in await Phone(client, "o_someone_else").says(f"绑定 {code}")  # once

    menu = await agent.says("代办")
    assert "1. 替村民申请" in menu and "5. 没送到的通知" in menu
    assert "替村民申请哪件事" in await agent.says("1")
    assert "申请人的姓名" in await agent.says("高龄补贴")  # 「给谁申请」 is not asked again
    assert "身份证号" in await agent.says("王秀英")
    assert "联系电话" in await agent.says(ID_NUMBER)
    assert "1. 柏树村" in await agent.says(OLD_VILLAGER)  # the agent's own villages
    assert "138****5678" in await agent.says("1")
    assert "验证码已发到 138****5678" in await agent.says("1")

    async def consent_sms():
        got = [text for text in sms.received(OLD_VILLAGER) if "验证码" in text]
        return got or None

    [consent] = await until(consent_sms)
    assert "代办员赵建国要替王秀英申请高龄补贴" in consent
    told = re.search(r"验证码(\d{6})", consent).group(1)
    wrong = "000000" if told != "000000" else "111111"
    assert "验证码不对" in await agent.says(wrong)
    reply = await agent.says(told)
    assert "申请人已同意由您代办" in reply
    for _ in range(10):  # each paper: 1 到窗口再交
        if "请核对" in reply:
            break
        reply = await agent.says("1")
    assert "代办人：赵建国（申请人同意：短信验证码）" in reply and "授权委托书" not in reply
    receipt_no = re.search(r"受理编号：(\w+)", await agent.says("1")).group(1)
    async with sessions() as session:
        case = await session.scalar(select(Case).where(Case.receipt_no == receipt_no))
    assert (case.agent_name, case.consent, case.village) == ("赵建国", "sms_code", "柏树村")

    await agent.says("代办")
    listed = await agent.says("2")
    assert "王秀英" in listed and receipt_no in listed and "已受理" in listed

    await clerk_moves(client, receipt_no, to="reviewing")
    await clerk_moves(client, receipt_no, to="needs_materials", missing=["户口簿"])
    notices = await wechat_received(client, "o_agent_zhao", 2)  # accepted, then 补正
    assert sorted((n["template_id"], n["data"]["first"]["value"], n["data"]["keyword3"]["value"])
                  for n in notices) == [("TPL_AGENT_CASE", "代办件有新进展：王秀英", "已受理"),
                                        ("TPL_AGENT_CASE", "代办件有新进展：王秀英", "待补正")]

    async def her_notice():  # her 「补交」 would find nothing: the case's chat is the agent's
        got = [text for text in sms.received(OLD_VILLAGER)
               if "还需补交：户口簿。请交给代办员赵建国" in text]
        return got or None

    assert await until(her_notice)  # the applicant keeps getting her own, by SMS
    await agent.says("代办")
    waiting = await agent.says("3")
    assert receipt_no in waiting and "还差：户口簿" in waiting
    assert "户口簿" in await agent.says("补交")
    assert "补交好了" in await agent.sends_photo()

    # Her phone was off: Aliyun's receipt says the 补正 SMS never arrived.
    async with sessions() as session:
        attempts = list(await session.scalars(select(NoticeAttempt).where(
            NoticeAttempt.channel == "sms", NoticeAttempt.message_id.is_not(None))))
    lost = [{"biz_id": a.message_id, "success": False, "err_code": "MK:0001",
             "phone_number": OLD_VILLAGER} for a in attempts]
    assert (await client.post(f"/sms/receipts/aliyun/{TOKEN}", json=lost)).status == 200
    await agent.says("代办")
    undelivered = await agent.says("5")
    assert "王秀英（138****5678）" in undelivered and "还需补交：户口簿" in undelivered
    sheet = html.unescape(await supervisor.get(f"/console/villages/{quote('柏树村')}/print"))
    assert "王秀英" in sheet and OLD_VILLAGER in sheet and "还需补交：户口簿" in sheet


async def test_binding_codes_cannot_be_guessed_and_a_stopped_agent_has_no_menu(center, sessions):
    client, _, _ = center
    agents = AgentService(sessions)
    registered, code = await agents.register("赵建国", AGENT_PHONE, ["柏树村"], "admin")
    guesser = Phone(client, "o_guesser")
    answers = [await guesser.says(f"绑定 {n:08d}") for n in range(6)]
    assert all("绑定码不对" in a for a in answers[:4]) and "试错次数太多" in answers[4]
    assert "试错次数太多" in await guesser.says(f"绑定 {code}")  # not even the right one
    assert "8位绑定码" in await guesser.says("绑定")
    agent = Phone(client, "o_agent_zhao")
    assert "绑定好了" in await agent.says(f"绑定 {code}")
    assert "1. 替村民申请" in await agent.says("代办")
    assert "本村现在没有在办的件" in await agent.says("2")
    assert "本村现在没有等补正的件" in await agent.says("3")  # the menu stays for a number
    assert "替村民申请哪件事" in await agent.says("1")
    assert "上班" in await agent.says("你们几点上班")  # left: the next application is theirs
    assert "给谁申请" in await agent.says("我要申请高龄补贴")
    assert "确定不申请了吗" not in await agent.says("算了")  # nothing told yet: just left
    assert "1. 替村民申请" in await agent.says("代办")
    await agents.set_active(registered.id, False)
    assert "您还不是登记的代办员" in await agent.says("2")  # the menu shown before is gone
