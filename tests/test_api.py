"""POST /api/nlu/parse on the bot's web service, against the real NLU service."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app


@pytest.fixture(scope="module")
async def client(remote_settings):
    client = TestClient(TestServer(create_app(remote_settings)))
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
    client = TestClient(TestServer(create_app(dead)))
    await client.start_server()
    try:
        response = await client.post("/api/nlu/parse", json={"text": "低保要带啥"})
        assert response.status == 503
        assert "系统繁忙" in (await response.json())["error"]
    finally:
        await client.close()
