"""Notices on real PostgreSQL and Redis, through the real WeChat client and the real Aliyun
and Tencent adapters, against local fakes of WeChat's API and of both SMS providers."""

import asyncio
import dataclasses
import logging
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.catalogue.center import load_center
from bot.catalogue.loader import load_catalogue
from bot.chinatime import CHINA
from bot.config import ROOT
from bot.notices.compose import Composer
from bot.notices.limits import SendMarks, SmsLimiter
from bot.notices.outbox import LEASE, NoticeStore, Preference
from bot.notices.rules import load_notice_rules
from bot.notices.worker import NoticeWorker
from bot.storage.tables import DomainEvent, Notice, NoticeAttempt
from integrations.fakes.sms import KEY_ID, SECRET, TENCENT_APP, start_fake_sms
from integrations.fakes.wechat_api import start_fake_wechat
from integrations.sms import segments
from integrations.sms.aliyun import AliyunSms
from integrations.sms.tencent import TencentSms
from integrations.wechat_api import WeChatApi
from tests.conftest import Clock

RULES = load_notice_rules(ROOT / "catalogue")
SMS_TEMPLATES = {code: t.sms for t in RULES.templates.values() for code in (t.aliyun, t.tencent)}
CATALOGUE = load_catalogue(ROOT / "catalogue")
CENTER = load_center(ROOT / "catalogue")
DAYTIME = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)




@pytest.fixture
async def fakes():
    async with start_fake_wechat() as wechat, start_fake_sms(SMS_TEMPLATES) as sms, \
            aiohttp.ClientSession() as session:
        yield wechat, sms, session


def make_worker(sessions, redis, fakes, clock, provider="aliyun", rules=RULES, secret=SECRET,
                aloud=None):
    wechat, sms, session = fakes
    store = NoticeStore(sessions, Composer(rules, CATALOGUE, CENTER), clock)
    api = WeChatApi(session, redis, wechat.app_id, wechat.secret, wechat.url) if wechat \
        else None
    adapter = AliyunSms(session, KEY_ID, secret, sms.aliyun_endpoint) if provider == "aliyun" \
        else TencentSms(session, KEY_ID, secret, TENCENT_APP, sms.tencent_endpoint)
    return NoticeWorker(store, adapter, SmsLimiter(redis, provider), SendMarks(redis), api,
                        aloud=aloud), store


async def add_event(sessions, kind, **payload):
    async with sessions.begin() as session:
        session.add(DomainEvent(kind=kind, case_id=None, created_at=datetime.now(UTC),
                                payload={"matter": "senior_allowance", **payload}))


def booked(user="o_villager", phone="13800001234", channel="wechat", **extra):
    return {"booking_no": "YY261123ABCDE", "when": "11月28日（周六）上午9:00（延时服务）",
            "place": "便民服务大厅2号窗口（民政窗口）", "user_id": user, "channel": channel,
            "phone": phone, **extra}


async def log_of(sessions):
    async with sessions() as session:
        return [(a.channel, a.outcome, a.code) for a in
                await session.scalars(select(NoticeAttempt).order_by(NoticeAttempt.id))]


def without_template(kind):
    """The rules with no WeChat template for `kind`: customer-service messages instead."""
    kinds = dict(RULES.templates)
    kinds[kind] = dataclasses.replace(kinds[kind], wechat_template_id="")
    return dataclasses.replace(RULES, templates=kinds)


async def test_followers_get_template_messages_and_the_unfollowed_an_sms(sessions, real_redis,
                                                                        fakes):
    worker, _ = make_worker(sessions, real_redis, fakes, Clock(DAYTIME))
    fakes[0].state.unfollowed.add("o_gone")
    await add_event(sessions, "booking.created", **booked(user="o_gone"))
    await add_event(sessions, "booking.created", **booked(user="o_here", phone="13900002222"))
    assert await worker.run_once() == 2
    [template] = fakes[0].state.outbox
    assert template["touser"] == "o_here" and template["template_id"] == "TPL_BOOKING_CREATED"
    assert {k: v["value"] for k, v in template["data"].items()} == {
        "first": "预约成功", "keyword1": "高龄补贴",
        "keyword2": "11月28日（周六）上午9:00（延时服",  # cut at 20 characters, as WeChat does
        "keyword3": "YY261123ABCDE"}
    assert template["client_msg_id"] == "bm-notice-2"
    [sms] = fakes[1].state.outbox
    assert sms["phone"] == "13800001234"
    assert sms["text"] == ("【示例镇便民服务中心】预约成功：11月28日（周六）上午9:00（延时服务）"
                           "到便民服务大厅2号窗口（民政窗口）办高龄补贴，预约号YY261123ABCDE。"
                           "请带齐材料，提前10分钟到。")
    assert ("wechat", "fallback", "43004") in await log_of(sessions)
    assert await worker.run_once() == 0  # nothing twice


async def test_without_a_template_a_customer_service_message_never_twice(sessions, real_redis,
                                                                         fakes):
    worker, _ = make_worker(sessions, real_redis, fakes, Clock(DAYTIME),
                            rules=without_template("booking.created"))
    await add_event(sessions, "booking.created", **booked())
    await worker.run_once()
    [sent] = fakes[0].state.outbox
    assert sent["text"]["content"].startswith("预约成功：11月28日（周六）")
    async with sessions.begin() as session:  # say the worker died before recording it
        notice = await session.scalar(select(Notice))
        notice.status, notice.lease_until = "pending", None
    await worker.run_once()
    assert len(fakes[0].state.outbox) == 1  # not again on WeChat: by SMS instead
    assert [m["phone"] for m in fakes[1].state.outbox] == ["13800001234"]


async def test_quiet_hours_hold_sms_until_morning_but_not_urgent_ones(sessions, real_redis,
                                                                       fakes):
    clock = Clock(datetime(2026, 11, 23, 22, 30, tzinfo=CHINA))
    worker, _ = make_worker(sessions, real_redis, fakes, clock)
    await add_event(sessions, "booking.created", **booked(channel="sms"))
    await worker.run_once()
    assert fakes[1].state.outbox == []
    async with sessions() as session:
        notice = await session.scalar(select(Notice))
    assert notice.next_at.astimezone(CHINA) == datetime(2026, 11, 24, 8, 0, tzinfo=CHINA)
    assert notice.attempts == 0  # waiting is not a failed attempt
    clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=CHINA)
    await worker.run_once()
    assert len(fakes[1].state.outbox) == 1


async def test_bad_numbers_fail_for_good_and_show_in_the_clerk_listing(sessions, real_redis,
                                                                        fakes):
    worker, store = make_worker(sessions, real_redis, fakes, Clock(DAYTIME))
    await add_event(sessions, "booking.created", **booked(channel="sms", phone="12345"))
    await worker.run_once()
    [(notice, attempts)] = await store.listing("failed")
    assert notice.last_error.startswith("isv.MOBILE_NUMBER_ILLEGAL")
    assert [a.outcome for a in attempts] == ["failed"]
    assert await store.retry(notice.id) and not await store.retry(notice.id)


async def test_a_provider_outage_is_retried_with_backoff(sessions, real_redis, fakes):
    clock = Clock(DAYTIME)
    worker, _ = make_worker(sessions, real_redis, fakes, clock)
    fakes[1].state.faults += ["500", "error"]
    await add_event(sessions, "booking.created", **booked(channel="sms"))
    await worker.run_once()
    await worker.run_once()  # not due yet: the backoff holds it
    assert fakes[1].state.requests == 1
    clock.now += timedelta(seconds=31)
    await worker.run_once()
    clock.now += timedelta(seconds=61)
    await worker.run_once()
    assert len(fakes[1].state.outbox) == 1
    assert await log_of(sessions) == [("sms", "retry", "500"), ("sms", "retry", "isp.SYSTEM_ERROR"),
                                      ("sms", "sent", "OK")]


async def test_tencent_limits_are_kept_before_submitting(sessions, real_redis, fakes):
    clock = Clock(DAYTIME)
    worker, _ = make_worker(sessions, real_redis, fakes, clock, provider="tencent")
    for _ in range(2):  # the same text twice within 30 s
        await add_event(sessions, "booking.created", **booked(channel="sms"))
    await worker.run_once()
    assert len(fakes[1].state.outbox) == 1 and fakes[1].state.requests == 1
    assert ("sms", "later", "number_limit") in await log_of(sessions)
    async with sessions() as session:
        waiting = await session.scalar(select(Notice).where(Notice.status == "pending"))
    assert waiting.next_at.astimezone(CHINA) == DAYTIME + timedelta(seconds=30)


async def test_a_wrong_secret_is_refused_by_both_providers(sessions, real_redis, fakes):
    for provider, code in (("aliyun", "SignatureDoesNotMatch"),
                           ("tencent", "AuthFailure.SignatureFailure")):
        worker, _ = make_worker(sessions, real_redis, fakes, Clock(DAYTIME), provider,
                                secret="wrong")
        await add_event(sessions, "booking.created", **booked(channel="sms",
                                                              phone=f"1380000{len(code):04d}"))
        await worker.run_once()
        assert ("sms", "failed", code) in await log_of(sessions)
    assert fakes[1].state.outbox == []


async def test_opted_out_and_sms_only_villagers(sessions, real_redis, fakes):
    worker, store = make_worker(sessions, real_redis, fakes, Clock(DAYTIME))
    await store.set_preference("o_quiet", opted_out=True)
    await store.set_preference("o_sms", mode="sms_only")
    await add_event(sessions, "booking.created", **booked(user="o_quiet"))
    await add_event(sessions, "booking.created", **booked(user="o_sms", phone="13700003333"))
    await worker.run_once()
    assert fakes[0].state.outbox == []
    assert [m["phone"] for m in fakes[1].state.outbox] == ["13700003333"]
    assert [n.status for n, _ in await store.listing()] == ["sent", "cancelled"]


async def test_two_workers_share_the_work_and_a_dead_one_is_taken_over(sessions, real_redis,
                                                                       fakes):
    clock = Clock(DAYTIME)
    first, first_store = make_worker(sessions, real_redis, fakes, clock)
    second, _ = make_worker(sessions, real_redis, fakes, clock)
    for n in range(120):
        await add_event(sessions, "booking.created",
                        **booked(user=f"o_{n}", channel="sms", phone=f"138{n:08d}"))
    await first_store.plan()
    dead = await first_store.claim(batch=20)  # claimed, then the worker died
    while await first.run_once() + await second.run_once():
        pass
    assert len(fakes[1].state.outbox) == 100
    clock.now += LEASE + timedelta(seconds=1)  # the dead worker's lease runs out
    await second.run_once()
    phones = [m["phone"] for m in fakes[1].state.outbox]
    assert len(phones) == len(set(phones)) == 120 and len(dead) == 20
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)
                                    .where(Notice.status == "sent")) == 120


async def test_a_repeated_send_after_a_crash_reaches_the_phone_once(sessions, real_redis, fakes):
    """A worker sent, then died before recording: the next one sends with the same key."""
    clock = Clock(DAYTIME)
    worker, store = make_worker(sessions, real_redis, fakes, clock)
    await add_event(sessions, "booking.created", **booked(channel="sms"))
    await store.plan()
    [notice] = await store.claim()
    await worker.deliver(notice, Preference())  # sent, and recorded…
    async with sessions.begin() as session:  # …but say the record was lost with the worker
        (await session.get(Notice, notice.id)).status = "pending"
    clock.now += LEASE + timedelta(seconds=1)
    await worker.run_once()
    assert len(fakes[1].state.outbox) == 1 and fakes[1].state.repeats == 1


def test_chinese_sms_segments():
    assert [segments("字" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]


async def test_reminders_are_written_once_by_any_number_of_workers(sessions):
    from bot.appointments.home_visits import HomeVisitService
    from bot.appointments.rules import load_booking_rules
    from bot.appointments.service import BookingRequest, BookingService
    from bot.workdays import load_work_calendar

    clock = Clock(datetime(2026, 11, 23, 8, 0, tzinfo=CHINA))
    bookings = BookingService(sessions, load_work_calendar(ROOT / "catalogue"),
                              load_booking_rules(ROOT / "catalogue"), clock)
    await bookings.ensure_calendar()
    [slot, *_] = await bookings.open_slots("civil", date(2026, 11, 25), date(2026, 11, 25))
    await bookings.book(BookingRequest(slot.id, "o_a", "dibao", "k1", "王", "13800001234"))
    assert await bookings.remind() == 0  # 11-25 is not tomorrow yet
    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=CHINA)
    results = await asyncio.gather(bookings.remind(), bookings.remind(),
                                   HomeVisitService(bookings).remind())
    assert sum(results) == 1
    async with sessions() as session:
        [reminder] = await session.scalars(select(DomainEvent).where(
            DomainEvent.kind == "booking.reminder"))
    assert reminder.payload["when"] == "11月25日（周三）上午9:00"


async def until(check, seconds=10.0):
    """Wait for the in-process notice worker (it polls every half second)."""
    for _ in range(int(seconds * 20)):
        if found := await check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the notice did not arrive")


async def test_each_status_change_of_the_application_story_reaches_the_phone(
        remote_settings, real_redis, sessions, tmp_path):
    """Issue #6 is done when this works: the 高龄补贴 story of issue #4, with the notice
    worker inside `bot serve`: WeChat while the villager follows, SMS once they ask."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app
    from bot.web.simulator import FAKE_WECHAT_URL
    from tests.conftest import TEST_DATABASE_URL
    from tests.test_apply import CLERK, CLERK_TOKEN, Phone, clerk_moves, fill_in_applicant
    from tests.test_wechat import wechat_settings

    async with start_fake_sms(SMS_TEMPLATES) as sms:
        settings = dataclasses.replace(
            wechat_settings(remote_settings), wechat_rate_limit=1000, notice_worker=True,
            database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files",
            clerk_tokens=f"民政窗口李四@civil:{CLERK_TOKEN}", sms_provider="aliyun",
            sms_endpoint=sms.aliyun_endpoint, sms_key_id=KEY_ID, sms_secret=SECRET)
        client = TestClient(TestServer(create_app(settings, clock=Clock(DAYTIME))))
        await client.start_server()
        try:
            phone = Phone(client, "o_notice")
            await fill_in_applicant(phone)
            for answer in ("1", "1", "1", "1"):
                reply = await phone.says(answer)
            receipt_no = reply.split("受理编号：")[1].split("\n")[0]
            fake_wechat = client.server.app[FAKE_WECHAT_URL]

            async def wechat_notice():
                async with aiohttp.ClientSession() as session, session.get(
                        f"{fake_wechat}/fake/outbox?openid=o_notice") as response:
                    return [{k: v["value"] for k, v in m["data"].items()}
                            for m in await response.json()]

            [accepted] = await until(wechat_notice)
            assert accepted["first"] == "申请已受理" and accepted["keyword1"] == receipt_no
            assert accepted["keyword2"] == "高龄补贴"
            assert accepted["keyword3"].startswith("预计") and accepted["keyword3"].endswith("办结")
            assert "好的，以后办事通知都发短信" in await phone.says("只发短信")
            await clerk_moves(client, receipt_no, to="reviewing")
            await clerk_moves(client, receipt_no, to="needs_materials",
                              missing=["高龄老人生活补贴审批表"])
            [missing] = await until(lambda: _texts(sms))
            assert missing == (f"【示例镇便民服务中心】您的高龄补贴申请（{receipt_no}）还需补交："
                               "高龄老人生活补贴审批表。可在微信公众号发“补交”拍照上传，或带到窗口。")
            for target in ("reviewing", "reported"):
                await clerk_moves(client, receipt_no, to=target)
            await clerk_moves(client, receipt_no, to="completed", result="可领取")
            done = (await until(lambda: _texts(sms, 2)))[-1]
            assert done.startswith(f"【示例镇便民服务中心】您的高龄补贴（{receipt_no}）已办结，"
                                   "请带身份证到")
            assert len(await wechat_notice()) == 1  # 审核中 and 已上报 are not worth a message

            async def recorded():
                # The phone has the SMS a moment before the worker records it as sent.
                listed = await (await client.get("/api/clerk/notices?user=o_notice",
                                                 headers=CLERK)).json()
                return listed if all(n["sent_via"] for n in listed["notices"]) else None

            listed = await until(recorded)
            assert [n["sent_via"] for n in listed["notices"]] == ["sms", "sms", "wechat"]
            assert listed["notices"][0]["log"][0]["message_id"].startswith("aliyun-")
        finally:
            await client.close()


async def _texts(sms, at_least=1):
    texts = [m["text"] for m in sms.state.outbox]
    return texts if len(texts) >= at_least else None


def test_a_misspelt_name_in_a_notice_template_is_reported(tmp_path):
    from bot.catalogue.loader import CatalogueError

    text = (ROOT / "catalogue" / "notices.yml").read_text(encoding="utf-8")
    (tmp_path / "notices.yml").write_text(text.replace("编号{receipt}，{due}", "编号{reciept}"),
                                          encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"kinds.case.accepted: 不认识的 \{reciept\}"):
        load_notice_rules(tmp_path)


RECEIPT_TOKEN = "receipts-" + "x" * 16


@pytest.fixture
async def receipts(sessions, real_redis, fakes):
    """Two SMS notices sent through the fake Aliyun, and an app taking receipts at the secret
    URL, from loopback only; with it the BizId each phone's message got (the worker sends
    both at once, so which one is aliyun-1 is not fixed)."""
    from ipaddress import ip_network

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.channels import sms_receipts

    worker, store = make_worker(sessions, real_redis, fakes, Clock(DAYTIME))
    await add_event(sessions, "booking.created", **booked(channel="sms"))
    await add_event(sessions, "booking.created", **booked(channel="sms", phone="13900009999"))
    await worker.run_once()
    app = web.Application(client_max_size=64 * 1024)
    app[sms_receipts.RECEIPTS] = store
    sms_receipts.setup_routes(app, RECEIPT_TOKEN, (ip_network("127.0.0.0/8"),
                                                    ip_network("::1/128")))
    biz = {sent["phone"]: sent["id"] for sent in fakes[1].state.outbox}
    async with TestClient(TestServer(app)) as client:
        yield client, store, biz


async def receipt_states(store):
    return {n.phone: (n.status, [a.receipt for a in log]) for n, log in await store.listing()}


async def test_delivery_receipts_count_once_and_failures_reach_the_clerks(receipts):
    client, store, biz = receipts
    url = f"/sms/receipts/aliyun/{RECEIPT_TOKEN}"
    delivered = [{"biz_id": biz["13800001234"], "success": True, "err_code": "DELIVERED",
                  "phone_number": "13800001234"}]
    for _ in range(2):  # the provider pushes it twice
        response = await client.post(url, json=delivered)
        assert (await response.json()) == {"code": 0, "msg": "成功"}
    lost = [{"biz_id": biz["13900009999"], "success": False, "err_code": "MK:0001",
             "phone_number": "13900009999"}]
    await client.post(url, json=lost)
    assert (await client.post(url, data=b"not json")).status == 400
    assert (await client.post(url, data=b"[" * 5000 + b"]" * 5000)).status == 400
    assert await receipt_states(store) == {"13800001234": ("sent", ["DELIVERED"]),
                                           "13900009999": ("failed", ["MK:0001"])}


async def test_forged_receipts_change_nothing(receipts):
    """Found by probing: an anonymous POST marked a real notice failed, and a forged
    「delivered」 would have hidden a real failure, since the first receipt counts."""
    client, store, biz = receipts
    forged = [{"biz_id": biz["13800001234"], "success": False, "err_code": "FORGED",
               "phone_number": "13800001234"}]
    assert (await client.post("/sms/receipts/aliyun", json=forged)).status == 404
    assert (await client.post("/sms/receipts/aliyun/guess-" + "y" * 16, json=forged)).status \
        == 403
    tencent = [{"sid": biz["13800001234"], "mobile": "13800001234", "report_status": "FAIL"}]
    assert (await client.post("/sms/receipts/tencent/wrong", json=tencent)).status == 403
    # With the token but another phone number: a misrouted or forged receipt, ignored.
    other_phone = [{**forged[0], "phone_number": "13700000000"}]
    response = await client.post(f"/sms/receipts/aliyun/{RECEIPT_TOKEN}", json=other_phone)
    assert response.status == 200
    assert await receipt_states(store) == {"13800001234": ("sent", [None]),
                                           "13900009999": ("sent", [None])}


async def test_odd_receipt_fields_are_stored_within_bounds_or_ignored(receipts):
    client, store, biz = receipts
    url = f"/sms/receipts/aliyun/{RECEIPT_TOKEN}"
    odd = [{"biz_id": "\x00", "success": False, "phone_number": "13800001234"},
           {"biz_id": biz["13900009999"], "success": False, "err_code": "E" * 100 + "\x00",
            "phone_number": "13900009999"}]
    assert (await client.post(url, json=odd)).status == 200
    assert await receipt_states(store) == {"13800001234": ("sent", [None]),
                                           "13900009999": ("failed", ["E" * 64])}


async def test_a_huge_batch_is_refused_at_once(receipts):
    client, store, biz = receipts
    url = f"/sms/receipts/aliyun/{RECEIPT_TOKEN}"
    assert (await client.post(url, data=b"[" + b"{}," * 13_000 + b"{}]")).status == 413  # 39 KB
    one_too_many = [{"biz_id": biz["13900009999"], "success": False, "phone_number": "13900009999"}]
    assert (await client.post(url, json=one_too_many * 201)).status == 413
    assert (await client.post(url, data=b"[" + b"{}," * 40_000 + b"{}]")).status == 413
    assert (await receipt_states(store))["13900009999"] == ("sent", [None])


async def test_the_secret_in_the_receipt_url_stays_out_of_the_access_log(receipts, caplog):
    client, _, _ = receipts
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    await client.post(f"/sms/receipts/aliyun/{RECEIPT_TOKEN}", json=[])
    await client.post("/sms/receipts/tencent/guess-" + "y" * 16, json=[])
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 2 and "/sms/receipts/aliyun/*** " in lines[0]
    assert RECEIPT_TOKEN not in caplog.text and "guess-" not in caplog.text


async def test_receipts_only_from_the_listed_addresses(sessions, real_redis, fakes):
    from ipaddress import ip_network

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.channels import sms_receipts

    app = web.Application()
    app[sms_receipts.RECEIPTS] = make_worker(sessions, real_redis, fakes, Clock(DAYTIME))[1]
    sms_receipts.setup_routes(app, RECEIPT_TOKEN, (ip_network("203.0.113.0/24"),))
    async with TestClient(TestServer(app)) as client:
        response = await client.post(f"/sms/receipts/tencent/{RECEIPT_TOKEN}", json=[])
        assert response.status == 403
        assert (await response.json())["result"] == 1


def test_the_receipt_settings_are_checked_at_start():
    from bot.config import Settings

    with pytest.raises(ValueError, match="SMS_RECEIPT_TOKEN"):
        Settings.from_env({"SMS_RECEIPT_TOKEN": "short"})
    with pytest.raises(ValueError, match="SMS_RECEIPT_ALLOW"):
        Settings.from_env({"SMS_RECEIPT_ALLOW": "10.0.0.0/8, the provider"})
    settings = Settings.from_env({"SMS_RECEIPT_TOKEN": RECEIPT_TOKEN,
                                  "SMS_RECEIPT_ALLOW": "10.0.0.0/8, 2001:db8::1"})
    assert [str(n) for n in settings.sms_receipt_allow] == ["10.0.0.0/8", "2001:db8::1/128"]
