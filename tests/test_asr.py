"""Issue #16 item 1: speech to text of our own. A voice message WeChat did not transcribe
goes, as 16 kHz WAV, to Tencent Cloud's or Aliyun's 一句话识别 through their real signed
HTTP APIs (local fakes that check signatures, tokens and audio), and the words enter the
dialogue like typed ones: a villager applies for 高龄补贴 by voice alone."""

import dataclasses

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.catalogue.loader import load_catalogue
from bot.config import ConfigError, Secret, Settings
from bot.dialogue.flowing import worth_hearing_back
from integrations import audio
from integrations.asr.aliyun import AliyunAsr
from integrations.asr.tencent import TencentAsr
from integrations.errors import IntegrationError
from integrations.fakes.asr import APP_KEY, KEY_ID, SECRET, start_fake_asr
from tests.conftest import TEST_DATABASE_URL
from tests.media import voice_amr
from tests.test_apply import ID_NUMBER, Phone
from tests.test_wechat import wechat_settings


@pytest.fixture
async def fake_asr():
    async with start_fake_asr() as fake:
        yield fake


@pytest.fixture
async def speech():
    return await audio.for_recognition(voice_amr())


async def test_tencent_hears_a_voice_message_through_its_signed_api(fake_asr, speech):
    async with aiohttp.ClientSession() as session:
        asr = TencentAsr(session, KEY_ID, SECRET, endpoint=fake_asr.tencent_endpoint)
        fake_asr.state.will_hear("我要申请高龄补贴")
        assert await asr.recognize(speech) == "我要申请高龄补贴"
        assert await asr.recognize(speech) == ""  # heard nothing
        wrong = TencentAsr(session, KEY_ID, "another-secret", endpoint=fake_asr.tencent_endpoint)
        with pytest.raises(IntegrationError, match="SignatureFailure"):
            await wrong.recognize(speech)
        with pytest.raises(IntegrationError, match="ErrorDecodeAudio"):
            await asr.recognize(await audio.playable(voice_amr()))  # 8 kHz: not taken


async def test_aliyun_hears_with_a_token_it_keeps_and_renews(fake_asr, speech):
    async with aiohttp.ClientSession() as session:
        asr = AliyunAsr(session, KEY_ID, SECRET, APP_KEY, fake_asr.aliyun_endpoint,
                        fake_asr.aliyun_token_endpoint)
        fake_asr.state.will_hear("低保要带啥", "几点上班")
        assert await asr.recognize(speech) == "低保要带啥"
        assert await asr.recognize(speech) == "几点上班"
        assert len(fake_asr.state.tokens) == 1  # one token for both
        fake_asr.state.tokens.clear()  # it expired early, or was revoked
        fake_asr.state.will_hear("转人工")
        assert await asr.recognize(speech) == "转人工"
        assert len(fake_asr.state.tokens) == 1
        other = AliyunAsr(session, KEY_ID, "another-secret", APP_KEY, fake_asr.aliyun_endpoint,
                          fake_asr.aliyun_token_endpoint)
        with pytest.raises(IntegrationError):
            await other.recognize(speech)


def test_the_provider_is_configured_with_its_keys():
    with pytest.raises(ConfigError, match="ASR_KEY_ID"):
        Settings.from_env({"ASR_PROVIDER": "tencent"})
    with pytest.raises(ConfigError, match="ASR_APP_KEY"):
        Settings.from_env({"ASR_PROVIDER": "aliyun", "ASR_KEY_ID": "k", "ASR_SECRET": "s"})
    assert Settings.from_env({}).asr_provider == "none"


@pytest.fixture
async def voice_app(remote_settings, real_redis, sessions, tmp_path, fake_asr):
    settings = dataclasses.replace(
        wechat_settings(remote_settings), wechat_rate_limit=1000, notice_worker=False,
        database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files", asr_provider="tencent",
        asr_key_id=KEY_ID, asr_secret=Secret(SECRET), asr_endpoint=fake_asr.tencent_endpoint)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client, fake_asr.state
    await client.close()


async def test_a_villager_applies_for_senior_allowance_by_voice_alone(voice_app):
    client, heard = voice_app
    villager, amr = Phone(client, "o_voice_only"), voice_amr()

    async def says(words):
        heard.will_hear(words)
        return await villager.sends_voice(amr)  # no Recognition from WeChat

    assert "给谁申请" in await says("我要申请高龄补贴")
    assert "姓名" in await says("1")
    # a name or a number heard is said back first: 1 对, 2 不对
    assert "您说的是“王秀英”吗？\n1 对\n2 不对" in await says("王秀英")
    assert "身份证号" in await says("1")
    assert "您说的是“110105194912310021”吗" in await says("110105194912310021")  # misheard
    assert "请再说一遍，或者打字发过来" in await says("2")
    assert f"您说的是“{ID_NUMBER}”吗" in await says(ID_NUMBER)
    assert "1101**********002X" in await says("1")
    assert "您说的是“13800001234”吗" in await says("13800001234")
    assert "哪个村" in await says("对的")  # said the way people say it
    reply = await says("石桥村")
    while "受理编号" not in reply:
        reply = await says("1")  # each material brought to the window; then submit
    assert "申请已受理" in reply
    assert heard.requests >= 8 and not heard.heard  # every message went through the ASR


async def test_a_voice_the_asr_did_not_catch_asks_to_type(voice_app):
    client, heard = voice_app
    reply = await Phone(client, "o_mumble").sends_voice(voice_amr())  # nothing queued
    assert "没能听清" in reply and heard.requests == 1


@pytest.mark.parametrize(("heard", "said_back"), [
    ("王秀英", True), ("李红", True), (ID_NUMBER, True), ("13800001234", True),
    ("1", False), ("明天下午", False), ("周六上午", False), ("高龄补贴", False),
    ("石桥村", False), ("好的", False),
])
def test_only_names_and_long_numbers_are_said_back(heard, said_back):
    """A day, a matter or a choice heard goes on as said: asking again costs a turn."""
    catalogue = load_catalogue(Settings.from_env({}).catalogue_dir)
    assert worth_hearing_back(heard, catalogue) is said_back
