"""The SMS channel as a phone uses it: the local fake of Aliyun's and Tencent's SMS posts
each provider's reply callback to the real app (real NLU, Redis, PostgreSQL), and the
answers come back through the in-process notice worker and the real SMS adapters to the
same fake, which lists what the phone received."""

import dataclasses
import logging
import re
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.cases.application import MaterialItem, NewCase
from bot.chinatime import CHINA
from bot.config import ROOT, Secret
from bot.flows import apply, home_visit, supplement
from bot.intents import texts
from bot.notices.rules import load_notice_rules
from bot.notices.sms_text import for_sms, room, split_for_sms
from bot.storage.tables import DomainEvent, Handoff
from bot.web import clerk_api, console_base
from integrations.fakes.sms import KEY_ID, SECRET, TENCENT_APP, start_fake_sms
from tests.conftest import TEST_DATABASE_URL
from tests.test_notices import RULES, SMS_TEMPLATES, until
from tests.test_wechat import wechat_settings

TOKEN = "uplink-" + "t" * 16
SIGN = f"【{RULES.sign_name}】"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
VILLAGER = "13912345678"
LABEL = re.compile(r"^\((\d+)/(\d+)\)")
PREFIX = re.compile(r"^(?:工作人员\w{1,10})?回复：")


def app_settings(remote_settings, sms, provider, tmp_path, **changes):
    endpoint = sms.aliyun_endpoint if provider == "aliyun" else sms.tencent_endpoint
    return dataclasses.replace(
        wechat_settings(remote_settings), notice_worker=True, database_url=TEST_DATABASE_URL,
        files_dir=tmp_path / "files", sms_provider=provider, sms_endpoint=endpoint,
        sms_key_id=KEY_ID, sms_secret=Secret(SECRET), sms_app_id=TENCENT_APP,
        sms_receipt_token=Secret(TOKEN), **changes)


@pytest.fixture(params=["aliyun", "tencent"])
async def center(request, remote_settings, real_redis, sessions, tmp_path):
    """The app answering SMS through one provider (its per-number limit raised, as the
    README asks for the reply number), and the fake provider."""
    async with start_fake_sms(SMS_TEMPLATES) as sms:
        sms.state.tencent_daily = sms.state.aliyun_daily = 1000
        settings = app_settings(remote_settings, sms, request.param, tmp_path,
                                sms_number_daily_limit=1000)
        client = TestClient(TestServer(create_app(settings, clock=lambda: MONDAY)))
        await client.start_server()
        try:
            yield SmsPhone(client, sms, sessions, request.param)
        finally:
            await client.close()


class SmsPhone:
    """A villager's phone writing to the center's number through the fake provider."""

    def __init__(self, client, sms, sessions, provider, number=VILLAGER):
        self.client, self.sms, self.sessions = client, sms, sessions
        self.provider, self.number = provider, number
        self.read = 0

    @property
    def callback(self):
        return str(self.client.make_url(f"/sms/uplink/{self.provider}/{TOKEN}"))

    async def send(self, text, body=None):
        return await self.sms.send_from(self.number, text, self.callback, self.provider, body)

    async def says(self, text):
        """The SMS the phone gets back for `text`, each checked against the 70-character
        limit; split parts put together. Waits for the notice worker to send them all."""
        status, ack = await self.send(text)
        assert status == 200, ack
        return self.joined(await self.new_messages())

    async def new_messages(self):
        expected = await self.replies_queued()

        async def all_arrived():
            got = self.sms.received(self.number)
            return got if len(got) >= expected else None

        got = await until(all_arrived)
        fresh, self.read = got[self.read:], len(got)
        for text in fresh:
            assert len(text) <= 70, text
        return fresh

    async def replies_queued(self):
        async with self.sessions() as session:
            return sum(1 for payload in await session.scalars(
                select(DomainEvent.payload).where(DomainEvent.kind.in_(
                    ("chat.reply", "handoff.reply", "handoff.closed"))))
                if payload.get("phone") == self.number)

    @staticmethod
    def joined(texts):
        """The texts as the villager reads them: prefix off (the bot's 「回复：」, a clerk's
        「工作人员李四回复：」), numbered parts in order."""
        bodies = [PREFIX.sub("", text.removeprefix(SIGN)) for text in texts]
        labelled = [(LABEL.match(b), b) for b in bodies]
        if not any(label for label, _ in labelled):
            return "\n".join(bodies)
        totals = {int(label.group(2)) for label, _ in labelled if label}
        assert len(totals) == 1 and all(label for label, _ in labelled), bodies
        numbers = sorted(int(label.group(1)) for label, _ in labelled)
        assert numbers == list(range(1, totals.pop() + 1)), bodies  # complete, none twice
        ordered = sorted(labelled, key=lambda pair: int(pair[0].group(1)))
        return "\n".join(LABEL.sub("", body) for _, body in ordered)


async def add_case(client, phone):
    """A 低保 application made at the window (or by another family member's WeChat) that
    gives this phone number."""
    cases = client.server.app[clerk_api.CASES]
    return await cases.submit(NewCase(
        "dibao", "wechat", "o_daughter", "王秀英", "11010519491231002X", phone, "石桥村",
        [MaterialItem("身份证", "at_window")]))


async def test_an_sms_villager_asks_books_a_saturday_and_reads_progress(center):
    """Issue #16 item 3 is done when this works, over each provider."""
    phone = center
    case = await add_case(phone.client, VILLAGER)
    asked = await phone.says("低保都要带啥材料")
    assert "1. 农村低保" in asked and "回复数字" in asked
    materials = await phone.says("1")
    assert "身份证" in materials and "户口" in materials
    offered = await phone.says("我想周六去办低保")
    assert "11月28日（周六）上午9:00" in offered
    summary = await phone.says("1")
    assert "姓名" in summary  # the phone is known: only the name is asked
    summary = await phone.says("王秀英")
    assert "139****5678" in summary and "姓名：王秀英" in summary
    booked = await phone.says("1")
    assert "预约成功！预约号：YY" in booked
    progress = await phone.says("办到哪了")
    assert case.receipt_no in progress and "低保" in progress
    bookings = await phone.says("我的预约")
    assert "11月28日（周六）上午9:00" in bookings
    texts = center.sms.received(VILLAGER)
    assert all(len(text) <= 70 and text.startswith(SIGN) for text in texts)
    assert any(LABEL.match(text.removeprefix(SIGN + "回复：")) for text in texts)
    assert len(texts) == 36  # the cost of it, within the default daily cap (40)


async def test_a_retried_callback_is_answered_once(center):
    body = center.sms.uplink(center.provider, VILLAGER, "几点上班")
    for _ in range(3):
        status, ack = await center.send("", body=body)
        assert status == 200 and ack in ({"code": 0, "msg": "成功"},
                                         {"result": 0, "errmsg": "OK"})
    hours = center.joined(await center.new_messages())
    assert "上班" in hours or ":" in hours
    async with center.sessions() as session:
        events = list(await session.scalars(select(DomainEvent)
                                            .where(DomainEvent.kind == "chat.reply")))
    assert len({e.payload["text"] for e in events}) == len(events)  # nothing twice


async def test_wrong_token_and_malformed_bodies_are_refused_and_change_nothing(center, caplog):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    url = f"/sms/uplink/{center.provider}/"
    body = center.sms.uplink(center.provider, VILLAGER, "低保要带啥")
    assert (await center.client.post(url + "wrong-" + "x" * 16, json=body)).status == 403
    assert (await center.client.post(url + TOKEN, data=b"{not json")).status == 400
    assert (await center.client.post(url + TOKEN, json={"hello": 1})).status == 400
    assert (await center.client.post(url + TOKEN, json=[{}] * 201)).status == 413
    assert (await center.client.post("/sms/uplink/other/" + TOKEN, json=body)).status == 404
    assert await center.replies_queued() == 0
    assert TOKEN not in caplog.text and f"{url}*** " in caplog.text  # the access log


async def test_the_daily_cap_ends_with_one_short_sms(remote_settings, real_redis, sessions,
                                                     tmp_path):
    async with start_fake_sms(SMS_TEMPLATES) as sms:
        settings = app_settings(remote_settings, sms, "aliyun", tmp_path,
                                sms_reply_daily_cap=8)
        async with TestClient(TestServer(create_app(settings, clock=lambda: MONDAY))) as client:
            phone = SmsPhone(client, sms, sessions, "aliyun")
            assert "1. 农村低保" in await phone.says("低保要带啥")  # 2 parts of 8
            capped = await phone.says("1")  # the list is 9 parts: more than the 6 left
            assert capped.startswith("今天短信已达上限，请明天再发，或拨打中心电话")
            status, _ = await phone.send("转人工")
            assert status == 200
            assert await phone.replies_queued() == 3  # nothing more today…
            async with sessions() as session:  # …but what they sent is kept for the clerks
                assert await session.scalar(select(Handoff.user_id)) == VILLAGER


async def test_a_clerks_answer_to_an_sms_handoff_reaches_the_phone(center):
    assert "已为您转人工" in await center.says("转人工")
    services = center.client.server.app[console_base.CONSOLE]
    async with center.sessions() as session:
        handoff = await session.scalar(select(Handoff))
    assert handoff.channel == "sms" and handoff.user_id == VILLAGER
    await services.handoffs.claim(handoff.id, "li")
    await services.handoffs.reply(handoff.id, "li", "李四", "低保请带户口簿和身份证来。")
    [answer] = await center.new_messages()
    assert answer == f"{SIGN}工作人员李四回复：低保请带户口簿和身份证来。"


def test_long_answers_are_split_at_boundaries_and_numbered():
    space = room(RULES.sign_name, "回复：")
    assert space == 70 - len(SIGN) - 3
    lines = [f"{n}. 材料{n}：身份证原件1份，复印件2份，户口簿 BM261123ABCDE" for n in range(1, 8)]
    parts = split_for_sms(["\n".join(lines)], space)
    assert len(parts) > 1 and all(len(p) <= space for p in parts)
    assert [LABEL.match(p).group() for p in parts] == \
        [f"({n}/{len(parts)})" for n in range(1, len(parts) + 1)]
    text = "\n".join(LABEL.sub("", p) for p in parts)
    assert text == "\n".join(lines)  # nothing lost, each cut at a line's end
    assert split_for_sms(["您好"], space) == ["您好"]
    digits = split_for_sms(["编号" + "，".join(["13800001234"] * 10)], space)
    assert all(re.fullmatch(r"\(\d+/\d+\)[^0-9]*(13800001234[^0-9]*)*", p) for p in digits)


def test_wechat_words_are_made_sms_suitable():
    assert for_sms("补交第1/2项：户口簿\n请拍照发过来；或回复 1 到窗口再交。") == \
        "补交第1/2项：户口簿\n短信发不了照片，请回复 1 到窗口再交。"
    assert for_sms("想接着问【低保】👍\n\n看 https://example.cn/a 吧") == "想接着问「低保」\n看  吧"
    for wechat_only in (apply.ITEM_PROMPT, supplement.ITEM_PROMPT, home_visit.ASK_ADDRESS,
                        texts.PROGRESS_HOW, texts.PROGRESS_OTHERS):
        assert not any(word in for_sms(wechat_only) for word in ("拍照", "位置", "微信"))


def test_the_reply_template_is_known_to_the_rules():
    reply = load_notice_rules(ROOT / "catalogue").templates["chat.reply"]
    assert reply.urgent and reply.aliyun and reply.tencent and "{text}" in reply.sms


def test_each_providers_sender_is_read_as_one_mainland_number():
    from bot.channels.sms import aliyun_uplink, mobile, tencent_uplink

    assert {mobile(n) for n in ("13912345678", "+86 139-1234-5678", "8613912345678")} == \
        {VILLAGER}
    assert mobile("13912345678", "852") is None and mobile("1391234567") is None
    one = aliyun_uplink({"phone_number": "13912345678", "content": "低保\x00", "sequence_id": 7})
    assert (one.phone, one.text, one.key) == (VILLAGER, "低保", "aliyun:7")
    same = {"mobile": "13912345678", "nationcode": "86", "text": "1", "time": 1764554400}
    assert tencent_uplink(same).key == tencent_uplink(dict(same)).key != \
        tencent_uplink({**same, "time": 1764554401}).key
    assert tencent_uplink({**same, "nationcode": "1"}) is None


async def test_an_sms_that_came_while_the_nlu_was_away_is_pushed_again_and_answered(
        remote_settings, real_redis, sessions, tmp_path):
    """503 to the provider, and the mark removed: its next push, to any worker, is handled."""
    from bot.nlu.runtime import free_port

    async with start_fake_sms(SMS_TEMPLATES) as sms:
        working = app_settings(remote_settings, sms, "aliyun", tmp_path)
        away = dataclasses.replace(working, nlu_url=f"http://127.0.0.1:{free_port()}",
                                   notice_worker=False)
        body = sms.uplink("aliyun", VILLAGER, "低保要多久")
        async with TestClient(TestServer(create_app(away, clock=lambda: MONDAY))) as client:
            status, ack = await SmsPhone(client, sms, sessions, "aliyun").send("", body)
            assert (status, ack["code"]) == (503, 1)
        async with TestClient(TestServer(create_app(working, clock=lambda: MONDAY))) as client:
            phone = SmsPhone(client, sms, sessions, "aliyun")
            assert (await phone.send("", body))[0] == 200
            assert "34个工作日" in phone.joined(await phone.new_messages())
