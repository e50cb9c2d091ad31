"""The /wechat endpoint as WeChat's servers use it: messages built and encrypted with wechatpy,
the real NLU service and Redis behind it, the local fake of WeChat's API for late answers."""

import asyncio
import dataclasses
import secrets
import time

import pytest
import xmltodict
from aiohttp.test_utils import TestClient, TestServer
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.channels.wechat_protocol import signature
from bot.config import Secret
from bot.dialogue.state import StateStore
from bot.storage.keys import wechat_signature
from tests.conftest import TEST_REDIS_URL as REDIS_URL

TOKEN = "test-wechat-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx_local_fake"  # the fake WeChat API's app id, used when no credentials are set


@pytest.fixture
def redis(real_redis):
    return real_redis


def wechat_settings(remote_settings, **changes):
    return dataclasses.replace(remote_settings, redis_url=REDIS_URL,
                               wechat_token=Secret(TOKEN), **changes)


@pytest.fixture
async def client(remote_settings, redis):
    client = TestClient(TestServer(create_app(wechat_settings(remote_settings))))
    await client.start_server()
    yield client
    await client.close()


def text_xml(content, user="o_villager", msg_id=1001, created=None):
    created = created or int(time.time())
    return (f"<xml><ToUserName><![CDATA[gh_center]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{created}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def event_xml(event, user="o_villager", key=""):
    return (f"<xml><ToUserName><![CDATA[gh_center]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{int(time.time())}"
            f"</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey></xml>")


def signed_query(token=TOKEN, timestamp=None, nonce=None):
    """The query WeChat signs each request with: a fresh nonce every time, as WeChat does."""
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    return {"signature": signature(token, timestamp, nonce), "timestamp": timestamp,
            "nonce": nonce, "openid": "o_villager"}


async def post(client, xml, query=None):
    params = signed_query() if query is None else query
    response = await client.post("/wechat", params=params, data=xml.encode())
    return response.status, await response.text()


def reply_text(body):
    return parse_message(body).content if body != "success" else ""


async def test_url_verification_echoes_echostr(client):
    response = await client.get("/wechat", params={**signed_query(), "echostr": "shr5ch"})
    assert (response.status, await response.text()) == (200, "shr5ch")


@pytest.mark.parametrize("query", [
    {},
    {**signed_query(), "signature": "0" * 40},
    signed_query(token="someone-else"),
    signed_query(timestamp=int(time.time()) - 3600),  # replayed an hour later
])
async def test_bad_or_missing_signature_is_refused_and_nothing_processed(client, redis, query):
    status, _ = await post(client, text_xml("低保要带啥"), query)
    assert status == 403
    assert await StateStore(redis).transcript("wechat", "o_villager") == []


async def test_a_text_question_gets_the_materials_as_a_passive_reply(client):
    status, body = await post(client, text_xml("俺娘想申请高龄补贴都要带啥"))
    assert status == 200
    reply = parse_message(body)
    assert (reply.source, reply.target) == ("gh_center", "o_villager")
    assert "两寸近期免冠照片 2张" in reply.content
    assert len(body.encode()) < 4096 and len(reply.content.encode()) <= 2048


async def test_conversation_follows_up_across_pushes(client):
    await post(client, text_xml("低保要带啥", msg_id=1))
    _, body = await post(client, text_xml("要多久", msg_id=2))
    assert "34个工作日" in reply_text(body)


async def test_retries_of_one_message_are_handled_once_with_the_same_reply(client, redis):
    xml = text_xml("高龄补贴要多久", msg_id=777)
    results = await asyncio.gather(*(post(client, xml) for _ in range(3)))
    assert {status for status, _ in results} == {200}
    assert len({body for _, body in results}) == 1
    lines = await StateStore(redis).transcript("wechat", "o_villager")
    assert [line["dir"] for line in lines] == ["in", "out"]


async def test_a_retry_in_a_later_second_gets_the_very_same_reply(client):
    """WeChat's retry comes seconds later: the reply's CreateTime is that of the answer,
    not of the retry (the three copies once differed when a second boundary fell between)."""
    xml = text_xml("残疾证要带啥", msg_id=778)
    _, first = await post(client, xml)
    await asyncio.sleep(1.1)  # the retry is always in another second
    _, retried = await post(client, xml)
    assert "残疾人证" in reply_text(first)
    assert retried == first


async def test_a_plaintext_signature_is_not_accepted_again_with_another_body(client, redis):
    """Plaintext mode signs only token, timestamp and nonce: a captured query must not carry
    another body (a retry of the same body is still answered)."""
    query = signed_query()
    xml = text_xml("低保要带啥", msg_id=901)  # once: a retry is the same bytes (CreateTime too)
    _, first = await post(client, xml, query)
    _, again = await post(client, xml, query)
    status, _ = await post(client, text_xml("我要人工服务", msg_id=902), query)
    assert again == first and "低保" in reply_text(first)
    assert status == 403
    lines = await StateStore(redis).transcript("wechat", "o_villager")
    assert [line["text"] for line in lines if line["dir"] == "in"] == ["低保要带啥"]


async def test_a_signature_is_remembered_as_long_as_its_timestamp_is_accepted(client, redis):
    """A sender's clock 290 s ahead: its signature is accepted for the next 590 s, and for
    all of them another body with it is refused (it was remembered only 300 s)."""
    query = signed_query(timestamp=int(time.time()) + 290)
    status, _ = await post(client, text_xml("低保要带啥", msg_id=903), query)
    assert status == 200
    remembered = await redis.ttl(wechat_signature(query["signature"]))
    assert remembered >= 590 - 5


async def test_two_workers_sharing_redis_process_a_retry_once(remote_settings, redis):
    settings = wechat_settings(remote_settings)
    first = TestClient(TestServer(create_app(settings)))
    second = TestClient(TestServer(create_app(settings)))
    await first.start_server()
    await second.start_server()
    try:
        xml = text_xml("残疾证要带啥", msg_id=4242)
        (_, a), (_, b) = await asyncio.gather(post(first, xml), post(second, xml))
        assert a == b and "残疾人证" in reply_text(a)
        lines = await StateStore(redis).transcript("wechat", "o_villager")
        assert [line["dir"] for line in lines] == ["in", "out"]
    finally:
        await first.close()
        await second.close()


async def test_subscribe_welcomes_and_unsubscribe_is_silent(client):
    _, body = await post(client, event_xml("subscribe"))
    assert "示例镇便民服务中心" in reply_text(body)
    _, body = await post(client, event_xml("unsubscribe", user="o_leaving"))
    assert body == "success"
    _, body = await post(client, event_xml("CLICK", user="o_menu", key="MENU_HOURS"))
    assert "上班时间" in reply_text(body)


async def test_voice_uses_recognition_or_asks_to_type(client, redis):
    def voice(recognition, msg_id):
        return (f"<xml><ToUserName><![CDATA[gh_center]]></ToUserName><FromUserName>"
                f"<![CDATA[o_voice]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                f"<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media-{msg_id}]]>"
                f"</MediaId><Format><![CDATA[amr]]></Format>{recognition}<MsgId>{msg_id}</MsgId>"
                f"</xml>")
    _, body = await post(client, voice("<Recognition><![CDATA[低保要多久]]></Recognition>", 51))
    assert "34个工作日" in reply_text(body)
    _, body = await post(client, voice("", 52))
    assert "没能听清" in reply_text(body)
    lines = await StateStore(redis).transcript("wechat", "o_voice")
    assert lines[-2]["media_id"] == "media-52"  # the audio is kept for a clerk


async def test_unknown_message_types_get_a_polite_answer(client):
    xml = (f"<xml><ToUserName><![CDATA[gh_center]]></ToUserName><FromUserName><![CDATA[o_x]]>"
           f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType>"
           f"<![CDATA[hologram]]></MsgType><MsgId>9</MsgId></xml>")
    status, body = await post(client, xml)
    assert status == 200 and "请打字" in reply_text(body)


@pytest.mark.parametrize(("body", "status"), [
    ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
     400),
    ("<xml><ToUserName>oops", 400),
    ("not xml at all", 400),
    ("<xml>" + "<Content>x</Content>" * 10_000 + "</xml>", 413),
])
async def test_malformed_hostile_or_huge_xml_is_refused(client, body, status):
    response, _ = await post(client, body)
    assert response == status


async def test_ten_messages_a_second_get_one_polite_slow_down(client):
    bodies = []
    for number in range(12):
        _, body = await post(client, text_xml("你好", user="o_fast", msg_id=5000 + number))
        bodies.append(reply_text(body))
    assert bodies[10] == "您发得太快了，请稍等几秒再发。"
    assert bodies[11] == ""
    assert all(text and "太快" not in text for text in bodies[:10])


async def test_a_slow_answer_comes_by_customer_service_message(remote_settings, redis):
    settings = wechat_settings(remote_settings, wechat_reply_budget=0.0)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        _, body = await post(client, text_xml("高龄补贴要带啥", user="o_slow", msg_id=31))
        assert body == "success"
        outbox = []
        for _ in range(50):
            response = await client.get("/simulator/outbox", params={"openid": "o_slow"})
            outbox = await response.json()
            if outbox:
                break
            await asyncio.sleep(0.1)
        assert outbox[0]["msgtype"] == "text"
        assert "两寸近期免冠照片 2张" in outbox[0]["text"]["content"]
    finally:
        await client.close()


async def test_safe_mode_decrypts_and_encrypts(remote_settings, redis):
    settings = wechat_settings(remote_settings, wechat_aes_key=Secret(AES_KEY))
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    try:
        query = signed_query()
        envelope = crypto.encrypt_message(text_xml("高龄补贴要多久", msg_id=88), query["nonce"],
                                          query["timestamp"])
        fields = xmltodict.parse(envelope)["xml"]
        query.update(encrypt_type="aes", msg_signature=fields["MsgSignature"])
        status, body = await post(client, envelope, query)
        assert status == 200 and "<Encrypt>" in body
        reply_fields = xmltodict.parse(body)["xml"]
        plain = crypto.decrypt_message(body, reply_fields["MsgSignature"],
                                       reply_fields["TimeStamp"], reply_fields["Nonce"])
        assert "【高龄补贴(高龄老人生活补贴)】要多久" in parse_message(plain).content

        # Encrypted with another key: refused, never processed.
        other = WeChatCrypto(TOKEN, "B" * 43, APP_ID).encrypt_message(
            text_xml("低保", msg_id=89), query["nonce"], query["timestamp"])
        query["msg_signature"] = xmltodict.parse(other)["xml"]["MsgSignature"]
        status, _ = await post(client, other, query)
        assert status == 400

        # A plaintext push is refused when the account is in safe mode.
        status, _ = await post(client, text_xml("低保", msg_id=90), signed_query())
        assert status == 400
    finally:
        await client.close()



async def test_an_unexpected_failure_still_gets_a_kind_reply(remote_settings, redis):
    """The NLU service refuses a wrong token (401): not a passing outage, still no crash."""
    settings = wechat_settings(remote_settings, nlu_token=Secret("not-the-token"))
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        xml = text_xml("低保要带啥", msg_id=666)
        first = await post(client, xml)
        retry = await post(client, xml)
        assert first == retry
        assert first[0] == 200 and reply_text(first[1]) == "系统繁忙，请稍后再试。"
    finally:
        await client.close()


async def test_a_follow_and_a_menu_tap_in_the_same_second_are_two_pushes(client):
    """Events have no MsgId: a retry is known by user and second, and the event itself."""
    def event(kind, key=""):
        return (f"<xml><ToUserName><![CDATA[gh_center]]></ToUserName><FromUserName>"
                f"<![CDATA[o_quick]]></FromUserName><CreateTime>1764556800</CreateTime>"
                f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{kind}]]></Event>"
                f"<EventKey><![CDATA[{key}]]></EventKey></xml>")

    _, welcome = await post(client, event("subscribe"))
    _, hours = await post(client, event("CLICK", "MENU_HOURS"))
    assert "示例镇便民服务中心" in reply_text(welcome) and "上班时间" in reply_text(hours)
    _, again = await post(client, event("CLICK", "MENU_HOURS"))  # WeChat's retry
    assert reply_text(again) == reply_text(hours)
