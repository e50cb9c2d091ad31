"""Redis briefly down: 「系统繁忙」 now, and the question answered once Redis is back."""

import asyncio
import dataclasses
import shutil
import subprocess
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import Secret
from bot.nlu.runtime import free_port
from tests.test_wechat import TOKEN, post, reply_text, text_xml

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def start_redis(port, directory):
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                              text=True)
        if ping.stdout.strip() == "PONG":
            return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


async def test_a_message_sent_while_redis_is_down_is_answered_later(remote_settings, tmp_path):
    port = free_port()
    redis = start_redis(port, tmp_path)
    settings = dataclasses.replace(remote_settings, redis_url=f"redis://127.0.0.1:{port}/0",
                                   wechat_token=Secret(TOKEN))
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        _, body = await post(client, text_xml("几点上班", user="o_down", msg_id=1))
        assert "上班时间" in reply_text(body)

        redis.terminate()
        redis.wait(10)
        status, body = await post(client, text_xml("低保要多久", user="o_down", msg_id=2))
        assert status == 200
        assert reply_text(body) == "系统繁忙，请稍后再试。"

        redis = start_redis(port, tmp_path)
        answer = None
        for _ in range(100):
            response = await client.get("/simulator/outbox", params={"openid": "o_down"})
            sent = await response.json()
            if sent:
                answer = sent[0]["text"]["content"]
                break
            await asyncio.sleep(0.1)
        assert answer is not None and "34个工作日" in answer
    finally:
        await client.close()
        redis.terminate()
        redis.wait(10)
