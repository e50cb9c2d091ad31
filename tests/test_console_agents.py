"""Issue #17 in the console: a supervisor registers a village agent (代办员) and hands over
the binding code, shown once; 村里待送达 lists, per village, the notices that reached nobody,
the open cases and home visits, and prints a village's sheet for its agent to carry."""

import dataclasses
import html
import re
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.appointments.home_visits import NewHomeVisit
from bot.cases.application import MaterialItem, NewCase
from bot.cases.status import Status
from bot.config import Secret, Settings
from bot.notices.outbox import Attempt
from bot.storage.tables import Agent, AuditEntry
from bot.web.clerk_notices import NOTICES
from bot.web.console_base import CONSOLE
from tests.conftest import TEST_DATABASE_URL, Clock
from tests.test_cases import ID_NUMBER
from tests.test_console import MONDAY_MORNING, Clerk
from tests.test_wechat import wechat_settings

CODE = re.compile(r'id="code"[^>]*>(\d{8})<')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


@pytest.fixture
async def console(sessions, real_redis, tmp_path):
    """The web service with its console and no notice worker (the test fails a notice
    itself); an NLU address nothing here calls. 李四 is a clerk of 民政窗口, 周五 of
    社会保障窗口, 孙主管 a supervisor."""
    base = dataclasses.replace(Settings.from_env({}), nlu_url="http://127.0.0.1:9",
                               nlu_token=Secret("unused"), notice_worker=False,
                               database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files")
    client = TestClient(TestServer(create_app(wechat_settings(base),
                                              clock=Clock(MONDAY_MORNING))))
    await client.start_server()
    accounts = client.server.app[CONSOLE].accounts
    await accounts.add("li", "李四", "clerk", "civil", "password-li")
    await accounts.add("zhou", "周五", "clerk", "social", "password-zhou")
    await accounts.add("sun", "孙主管", "supervisor", None, "password-sun")
    yield client
    await client.close()


@pytest.fixture
async def clerks(console):
    signed = []
    for login in ("sun", "li", "zhou"):
        clerk = Clerk(console)
        await clerk.login(login, f"password-{login}")
        signed.append(clerk)
    yield signed
    for clerk in signed:
        await clerk.close()


async def register(clerk, status=200, **form):
    page = await clerk.get("/console/agents")
    data = {"name": "张代办", "phone": "13912345678", "village": ["石桥村", "河坝村"],
            "nonce": NONCE.search(page).group(1), **form}
    return await clerk.post("/console/agents", status=status, **data)


async def audited(sessions, action):
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action == action)))


async def test_a_supervisor_registers_an_agent_and_sees_the_code_once(console, clerks, sessions):
    sun, li, _ = clerks
    answer = await register(sun)
    code = CODE.search(answer).group(1)
    assert f"请代办员关注公众号后发送：绑定 {code}（3天内有效）" in answer
    listed = await sun.get("/console/agents")
    assert code not in listed  # once: the list never shows it again
    assert "张代办" in listed and "139****5678" in listed and "13912345678" not in listed
    assert "石桥村、河坝村" in listed and "未绑定" in listed and "在用" in listed
    # the same form sent again (a reload, a double click) registers nobody twice
    nonce = NONCE.search(await sun.get("/console/agents")).group(1)
    form = {"name": "王代办", "phone": "13700001111", "village": "柏树村", "nonce": nonce}
    await sun.post("/console/agents", status=200, **form)
    assert "已经提交过了" in await sun.post("/console/agents", status=409, **form)
    async with sessions() as session:
        agents = list(await session.scalars(select(Agent).order_by(Agent.id)))
    assert [(a.name, a.villages, a.created_by) for a in agents] == [
        ("张代办", ["石桥村", "河坝村"], "sun"), ("王代办", ["柏树村"], "sun")]
    assert agents[0].code_hash and code not in agents[0].code_hash  # kept only hashed
    [added, _] = await audited(sessions, "agent.add")
    assert added.target == f"agent:{agents[0].id}"
    assert added.after == {"name": "张代办", "phone": "139****5678", "villages": "石桥村、河坝村"}
    assert "登记代办员" in await sun.get("/console/audit")
    # the agent sends the code to the official account: bound
    card = await console.server.app[CONSOLE].agents.bind("o_agent", code)
    assert card is not None and card.name == "张代办"
    assert "已绑定" in await li.get("/console/agents")  # clerks read the list


async def test_bad_input_gives_the_form_back_with_what_was_typed(clerks, sessions):
    sun, _, _ = clerks
    wrong = html.unescape(await register(sun, 400, phone="1390000"))
    assert "电话号码不对" in wrong
    assert 'value="张代办"' in wrong and 'value="1390000"' in wrong
    assert 'value="石桥村" checked' in wrong and 'value="河坝村" checked' in wrong
    assert 'value="柏树村" checked' not in wrong
    assert "姓名请写2到10个字" in await register(sun, 400, name="张")
    # no village, or only one that is not the township's: none picked
    assert "请至少选一个村" in await register(sun, 400, village="外镇某村")
    assert "请至少选一个村" in await register(sun, 400, village=[])
    # corrected, the same form goes through
    page = await sun.get("/console/agents")
    nonce = NONCE.search(page).group(1)
    form = {"name": "张代办", "phone": "1390000", "village": "石桥村", "nonce": nonce}
    await sun.post("/console/agents", status=400, **form)
    assert CODE.search(await sun.post("/console/agents", status=200,
                                      **{**form, "phone": "13900001111"}))
    async with sessions() as session:
        assert len(list(await session.scalars(select(Agent)))) == 1


async def test_a_clerk_reads_the_agents_but_cannot_register_or_change_them(clerks, sessions):
    sun, li, _ = clerks
    await register(sun)
    listed = await li.get("/console/agents")
    assert "张代办" in listed and "登记并生成绑定码" not in listed
    assert "重新生成绑定码" not in listed
    page = await sun.get("/console/agents")
    agent_id = re.search(r'/console/agents/(\d+)/code', page).group(1)
    await li.post("/console/agents", status=403, name="李代办", phone="13700001111",
                  village="石桥村", nonce="x" * 22)
    await li.post(f"/console/agents/{agent_id}/code", status=403)
    await li.post(f"/console/agents/{agent_id}/active", status=403, active="0")
    async with sessions() as session:
        [agent] = list(await session.scalars(select(Agent)))
    assert agent.active and agent.name == "张代办"
    await sun.post("/console/agents/999/code", status=404)


async def test_a_new_code_voids_the_old_one_and_a_stopped_agent_binds_no_more(
        console, clerks, sessions):
    sun, _, _ = clerks
    old = CODE.search(await register(sun)).group(1)
    agent_id = re.search(r'/console/agents/(\d+)/code', await sun.get("/console/agents")).group(1)
    answer = await sun.post(f"/console/agents/{agent_id}/code", status=200)
    new = CODE.search(answer).group(1)
    assert new != old and f"绑定 {new}（3天内有效）" in answer
    agents = console.server.app[CONSOLE].agents
    assert await agents.bind("o_agent", old) is None
    assert (await agents.bind("o_agent", new)).id == int(agent_id)
    await sun.post(f"/console/agents/{agent_id}/active", active="0")
    listed = await sun.get("/console/agents")
    assert "已停用" in listed and "启用</button>" in listed and "未绑定" in listed
    assert await agents.agent_of("o_agent") is None  # unbound: files nothing more
    await sun.post(f"/console/agents/{agent_id}/code", status=409)  # restore it first
    await sun.post(f"/console/agents/{agent_id}/active", active="1")
    again = CODE.search(await sun.post(f"/console/agents/{agent_id}/code", status=200)).group(1)
    assert (await agents.bind("o_agent", again)).name == "张代办"
    assert [(e.before, e.after) for e in await audited(sessions, "agent.disable")] == [
        ({"active": True}, {"active": False})]
    assert len(await audited(sessions, "agent.code")) == 2
    assert len(await audited(sessions, "agent.enable")) == 1


async def failed_notice(app, village="石桥村"):
    """A 高龄补贴 case (民政窗口) applied for by SMS, sent back for 户口本; the SMS telling the
    villager so fails."""
    services = app[CONSOLE]
    case = await services.cases.submit(NewCase(
        matter_id="senior_allowance", channel="sms", user_id="13800001234",
        applicant_name="王秀英", applicant_id_number=ID_NUMBER, phone="13800001234",
        village=village, materials=[MaterialItem("身份证", "received", None)]))
    await services.cases.move(case.receipt_no, Status.NEEDS_MATERIALS, "李四",
                              missing=["户口本"])
    store = app[NOTICES]
    await store.plan()
    [(notice, _)] = await store.listing("pending")  # accepted: said in the SMS answer itself
    await store.record(notice.id, [Attempt("sms", "aliyun", "failed", "isv.MOBILE_NUMBER_ILLEGAL")],
                       "failed")
    return case.receipt_no, notice.text


async def test_a_notice_that_reached_nobody_is_on_its_villages_sheet(console, clerks, sessions):
    sun, li, zhou = clerks
    await register(sun)  # 张代办 covers 石桥村 and 河坝村
    receipt, text = await failed_notice(console.server.app)
    assert "户口本" in text
    visit = await console.server.app[CONSOLE].visits.request(NewHomeVisit(
        user_id="o_visit", channel="wechat", person_name="李大爷", id_number=ID_NUMBER,
        for_self=True, reason="age", age=88, matter_id="senior_allowance", purpose="高龄补贴",
        village="石桥村", address="石桥村3组12号", phone="13700002222",
        preferred=("2026-11-24 am",), key="v1"))
    overview = await li.get("/console/villages")
    for village in ("石桥村", "河坝村", "新街社区", "柏树村", "高峰村", "团结村"):
        assert village in overview
    assert "王秀英" in overview and "138****1234" in overview and "13800001234" not in overview
    assert text in overview and receipt in overview and "张代办" in overview
    assert visit.visit_no in overview and "李大爷" in overview
    # another window's clerk sees none of it, as on every page
    assert "王秀英" not in await zhou.get("/console/villages")
    assert "/console/villages/%E7%9F%B3%E6%A1%A5%E6%9D%91/print" in overview
    sheet = await li.get(f"/console/villages/{quote('石桥村')}/print")
    assert 'id="sheet-village">石桥村<' in sheet and 'id="sheet-agent">张代办<' in sheet
    assert 'id="sheet-printed">2026年11月23日<' in sheet
    notices = sheet.split('id="sheet-notices"')[1].split("</table>")[0]
    assert "王秀英" in notices and "13800001234" in notices and receipt in notices
    assert text in notices and "2026年11月23日" in notices
    owing = sheet.split('id="sheet-owing"')[1].split("</table>")[0]
    assert receipt in owing and "户口本" in owing
    visits = sheet.split('id="sheet-visits"')[1].split("</table>")[0]
    assert visit.visit_no in visits and "李大爷" in visits and "石桥村3组12号" in visits
    assert "待安排" in visits
    assert "代办员签收：＿＿＿ 送达日期：＿＿＿" in sheet
    other = await li.get(f"/console/villages/{quote('河坝村')}/print")
    assert "王秀英" not in other and text not in other and receipt not in other
    assert "李大爷" not in other and 'id="sheet-agent">张代办<' in other
    await li.get(f"/console/villages/{quote('外镇某村')}/print", status=404)
    [printed, _] = await audited(sessions, "village.print")
    assert (printed.actor, printed.target) == ("li", "village:石桥村")
