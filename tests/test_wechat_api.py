"""The WeChat API client against the local fake that speaks WeChat's API."""

import asyncio

import aiohttp
import pytest

from integrations.errors import IntegrationError
from integrations.fakes.wechat_api import CUSTOMER_SERVICE_QUOTA, start_fake_wechat
from integrations.wechat_api import QuotaExceeded, WeChatApi


@pytest.fixture
def redis(real_redis):
    return real_redis


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as session:
        yield session


async def test_workers_share_one_token(redis, session):
    async with start_fake_wechat() as fake:
        workers = [WeChatApi(session, redis, fake.app_id, fake.secret, fake.url)
                   for _ in range(8)]
        tokens = await asyncio.gather(*(w.access_token() for w in workers))
        assert len(set(tokens)) == 1
        assert fake.state.token_requests == 1
        await asyncio.gather(*(w.send_text(f"o_{n}", "你好") for n, w in enumerate(workers)))
        assert len(fake.state.outbox) == 8


async def test_an_expired_token_is_refreshed_and_the_message_sent(redis, session):
    async with start_fake_wechat(token_lifetime=1) as fake:
        api = WeChatApi(session, redis, fake.app_id, fake.secret, fake.url)
        await api.send_text("o_1", "第一条")
        await asyncio.sleep(1.2)  # WeChat's side expired it; our cache still holds it
        await api.send_text("o_1", "第二条")
        assert [m["text"]["content"] for m in fake.state.outbox] == ["第一条", "第二条"]
        assert fake.state.token_requests == 2


async def test_a_token_invalidated_elsewhere_is_replaced(redis, session):
    async with start_fake_wechat() as fake:
        api = WeChatApi(session, redis, fake.app_id, fake.secret, fake.url)
        await api.send_text("o_1", "一")
        # Someone calls the old /cgi-bin/token endpoint: every earlier token dies (40001).
        async with session.get(f"{fake.url}/cgi-bin/token",
                               params={"appid": fake.app_id, "secret": fake.secret}):
            pass
        await api.send_text("o_1", "二")
        assert len(fake.state.outbox) == 2


async def test_the_customer_service_quota_is_reported(redis, session):
    async with start_fake_wechat() as fake:
        api = WeChatApi(session, redis, fake.app_id, fake.secret, fake.url)
        for _ in range(CUSTOMER_SERVICE_QUOTA):
            await api.send_text("o_q", "x")
        with pytest.raises(QuotaExceeded) as caught:
            await api.send_text("o_q", "one too many")
        assert caught.value.code == 45047


async def test_wrong_credentials_are_an_integration_error(redis, session):
    async with start_fake_wechat() as fake:
        api = WeChatApi(session, redis, fake.app_id, "wrong-secret", fake.url)
        with pytest.raises(IntegrationError) as caught:
            await api.send_text("o_1", "x")
        assert caught.value.code == 40125


PHOTO = b"\xff\xd8\xff\xe0" + b"\x00" * 2048  # the start of a JPEG
PHONE_PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 12_000  # 3 MB: many chunks


async def test_media_a_villager_sent_is_downloaded(redis, session):
    async with start_fake_wechat() as fake:
        fake.state.media["m-1"] = (PHOTO, "image/jpeg")
        api = WeChatApi(session, redis, fake.app_id, fake.secret, fake.url)
        assert await api.download_media("m-1", max_bytes=10_000) == PHOTO
        fake.state.media["m-2"] = (PHONE_PHOTO, "image/jpeg")
        assert await api.download_media("m-2", max_bytes=10_000_000) == PHONE_PHOTO  # whole
        with pytest.raises(IntegrationError) as caught:
            await api.download_media("m-1", max_bytes=1_000)
        assert caught.value.code == "too_large"
        with pytest.raises(IntegrationError) as caught:
            await api.download_media("expired", max_bytes=10_000)
        assert caught.value.code == 40007
