"""POST /api/nlu/parse on the bot's web service, against the real NLU service: staff only
(a clerk token or a console login), a few questions a minute per caller."""

import dataclasses

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app

TOKEN = "nlu-checking-token-0123456789"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


def staff_settings(settings, **changes):
    return dataclasses.replace(settings, clerk_tokens=f"值班员@*:{TOKEN}", **changes)


class StaffClient(TestClient):
    """The bot's web service as a clerk with a token calls it."""

    async def post(self, path, **kwargs):
        return await super().post(path, headers={**STAFF, **kwargs.pop("headers", {})},
                                  **kwargs)


@pytest.fixture(scope="module")
async def client(remote_settings):
    client = StaffClient(TestServer(create_app(staff_settings(remote_settings))))
    await client.start_server()
    yield client
    await client.close()


async def test_parse_answers_the_documented_json(client):
    response = await client.post("/api/nlu/parse", json={"text": "俺娘想申请低保都要带啥"})
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"text", "intent", "confidence", "matter", "matter_confidence",
                         "candidates"}
    assert body["intent"] == "ask_materials"
    assert body["matter"] == "dibao"
    assert body["candidates"][0] == {"matter": "dibao", "score": body["matter_confidence"]}


async def test_health(client):
    response = await client.get("/healthz")
    assert response.status == 200


async def test_empty_text_is_answered_not_refused(client):
    response = await client.post("/api/nlu/parse", json={"text": ""})
    assert response.status == 200
    assert (await response.json())["skipped"] == "empty"


@pytest.mark.parametrize(("payload", "status"), [
    (b"not json", 400),
    (b'{"question": "x"}', 400),
    (b'{"text": 5}', 400),
    (b'["text"]', 400),
])
async def test_bad_requests_get_a_chinese_error(client, payload, status):
    response = await client.post("/api/nlu/parse", data=payload,
                                 headers={"Content-Type": "application/json"})
    assert response.status == status
    assert "error" in await response.json()


async def test_oversized_body_is_refused(client):
    response = await client.post("/api/nlu/parse", json={"text": "低" * 100_000})
    assert response.status == 413


async def test_nlu_down_gives_busy_not_a_crash(remote_settings):
    import dataclasses

    from bot.nlu.runtime import free_port

    dead = dataclasses.replace(remote_settings, nlu_url=f"http://127.0.0.1:{free_port()}",
                               nlu_timeout=1.0)
    client = StaffClient(TestServer(create_app(staff_settings(dead))))
    await client.start_server()
    try:
        response = await client.post("/api/nlu/parse", json={"text": "低保要带啥"})
        assert response.status == 503
        assert "系统繁忙" in (await response.json())["error"]
    finally:
        await client.close()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-clerk-token-0123"}])
async def test_parse_needs_a_clerk_token_or_a_console_login(client, headers):
    async with client.session.post(client.make_url("/api/nlu/parse"), headers=headers,
                                   json={"text": "低保要带啥"}) as response:
        assert response.status == 401
        assert "请先登录" in (await response.json())["error"]


async def test_parse_is_rate_limited_per_caller(remote_settings):
    other = "another-clerk-token-0123456789"
    settings = staff_settings(remote_settings, nlu_parse_per_minute=2)
    settings = dataclasses.replace(settings,
                                   clerk_tokens=f"{settings.clerk_tokens},李四@civil:{other}")
    client = StaffClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        statuses = [(await client.post("/api/nlu/parse", json={"text": "几点上班"})).status
                    for _ in range(3)]
        assert statuses == [200, 200, 429]
        refused = await client.post("/api/nlu/parse", json={"text": "几点上班"})
        assert "查询太频繁" in (await refused.json())["error"]
        mine = await client.post("/api/nlu/parse", json={"text": "几点上班"},
                                 headers={"Authorization": f"Bearer {other}"})
        assert mine.status == 200  # another clerk's own minute
    finally:
        await client.close()
