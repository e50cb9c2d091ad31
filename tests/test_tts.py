"""Issue #16 item 2: answers read aloud. Tencent Cloud's and Aliyun's speech synthesis through
their real signed HTTP APIs (a local fake that checks signatures and tokens and speaks real
MP3), WeChat's temporary media and voice messages (the fake checks what WeChat checks), the
text made for listening, and the story: a villager asks 低保要带什么, says 念给我听 and hears
the answer."""

import asyncio
import dataclasses
import time
from datetime import UTC, datetime

import aiohttp
import pytest
import xmltodict
from aiohttp.test_utils import TestClient, TestServer

from bot.app import WEBHOOK, create_app
from bot.catalogue.center import load_center
from bot.catalogue.loader import load_catalogue
from bot.config import ConfigError, Secret, Settings
from bot.dialogue.manager import Dialogue
from bot.dialogue.state import StateStore
from bot.intents import texts
from bot.messages import Channel, Incoming, Kind
from bot.spoken import for_listening, number_words, parts
from bot.voice import (
    MAX_VOICE_MESSAGES,
    MORE_IN_TEXT,
    VoiceMaker,
    VoiceNotices,
    VoicePreferences,
)
from bot.web.simulator import FAKE_WECHAT_URL
from integrations import audio
from integrations.errors import IntegrationError, ServiceUnavailable
from integrations.fakes.asr import start_fake_asr
from integrations.fakes.sms import start_fake_sms
from integrations.fakes.tts import APP_KEY, KEY_ID, SECRET, speak, start_fake_tts
from integrations.fakes.wechat_api import start_fake_wechat
from integrations.tts.aliyun import AliyunTts
from integrations.tts.tencent import TencentTts
from integrations.wechat_api import WeChatApi
from tests.conftest import TEST_DATABASE_URL, Clock
from tests.media import voice_amr
from tests.test_apply import MESSAGE_IDS, Phone
from tests.test_notices import DAYTIME, SMS_TEMPLATES, add_event, booked, make_worker
from tests.test_teaching import ScriptedNlu
from tests.test_wechat import post, text_xml, wechat_settings


@pytest.fixture
async def fake_tts():
    async with start_fake_tts() as fake:
        yield fake


async def seconds_of(mp3):
    """How long a voice file plays, decoded by ffmpeg (it is real audio, or this fails)."""
    wav = await audio.playable(mp3)
    return (len(wav) - 44) / (2 * int.from_bytes(wav[24:28], "little"))


# --- the providers, against the fake -----------------------------------------------------

async def test_tencent_speaks_through_its_signed_api(fake_tts):
    async with aiohttp.ClientSession() as session:
        tts = TencentTts(session, KEY_ID, SECRET, endpoint=fake_tts.tencent_endpoint)
        mp3 = await tts.synthesize("低保要带身份证和户口本。")
        assert mp3.startswith(b"ID3") and fake_tts.state.text_of(mp3) == "低保要带身份证和户口本。"
        assert 2 <= await seconds_of(mp3) <= 4  # 12 characters, about 4 a second
        with pytest.raises(IntegrationError, match="TextTooLong"):
            await tts.synthesize("字" * (tts.max_chars + 1))  # its limit for one request
        wrong = TencentTts(session, KEY_ID, "another-secret", endpoint=fake_tts.tencent_endpoint)
        with pytest.raises(IntegrationError, match="SignatureFailure"):
            await wrong.synthesize("你好")
        fake_tts.state.down = True
        with pytest.raises(ServiceUnavailable):
            await tts.synthesize("你好")


async def test_aliyun_speaks_with_a_token_it_keeps_and_renews(fake_tts):
    async with aiohttp.ClientSession() as session:
        tts = AliyunTts(session, KEY_ID, SECRET, APP_KEY, endpoint=fake_tts.aliyun_endpoint,
                        token_endpoint=fake_tts.aliyun_token_endpoint)
        first, second = await tts.synthesize("九点上班。"), await tts.synthesize("五点下班。")
        assert [fake_tts.state.text_of(a) for a in (first, second)] == ["九点上班。", "五点下班。"]
        assert len(fake_tts.state.tokens) == 1  # one token for both
        fake_tts.state.tokens.clear()  # it expired early, or was revoked
        assert fake_tts.state.text_of(await tts.synthesize("转人工。")) == "转人工。"
        assert len(fake_tts.state.tokens) == 1
        other = AliyunTts(session, KEY_ID, SECRET, "another-appkey",
                          endpoint=fake_tts.aliyun_endpoint,
                          token_endpoint=fake_tts.aliyun_token_endpoint)
        with pytest.raises(IntegrationError, match="APPKEY_NOT_EXIST"):
            await other.synthesize("你好")
        fake_tts.state.down = True
        with pytest.raises(ServiceUnavailable):
            await tts.synthesize("你好")


def test_the_provider_is_configured_with_its_keys():
    with pytest.raises(ConfigError, match="TTS_KEY_ID"):
        Settings.from_env({"TTS_PROVIDER": "tencent"})
    with pytest.raises(ConfigError, match="TTS_PROVIDER"):
        Settings.from_env({"TTS_PROVIDER": "baidu"})
    # one cloud account for hearing and speaking: the ASR's keys serve both
    shared = Settings.from_env({"ASR_PROVIDER": "aliyun", "ASR_KEY_ID": "k", "ASR_SECRET": "s",
                                "ASR_APP_KEY": "a", "TTS_PROVIDER": "aliyun"})
    assert (shared.tts_key_id, str(shared.tts_secret), shared.tts_app_key) == ("k", "s", "a")
    with pytest.raises(ConfigError, match="TTS_KEY_ID"):  # another provider: its own keys
        Settings.from_env({"ASR_PROVIDER": "aliyun", "ASR_KEY_ID": "k", "ASR_SECRET": "s",
                           "ASR_APP_KEY": "a", "TTS_PROVIDER": "tencent"})
    with pytest.raises(ConfigError, match="TTS_APP_KEY"):
        Settings.from_env({"TTS_PROVIDER": "aliyun", "TTS_KEY_ID": "k", "TTS_SECRET": "s"})
    with pytest.raises(ConfigError, match="TTS_VOICE"):
        Settings.from_env({"TTS_PROVIDER": "tencent", "TTS_KEY_ID": "k", "TTS_SECRET": "s",
                           "TTS_VOICE": "xiaoyun"})
    assert Settings.from_env({}).tts_provider == "none"


# --- WeChat's temporary media and voice messages, against the fake ------------------------

async def test_voice_is_uploaded_as_temporary_media_and_sent(real_redis):
    async with start_fake_wechat() as wechat, aiohttp.ClientSession() as session:
        api = WeChatApi(session, real_redis, wechat.app_id, wechat.secret, wechat.url)
        mp3 = await speak("一二三四")
        media_id = await api.upload_voice(mp3)
        await api.send_voice("o_listener", media_id)
        [sent] = wechat.state.outbox
        assert sent == {"touser": "o_listener", "msgtype": "voice",
                        "voice": {"media_id": media_id}}
        assert wechat.state.media[media_id] == (mp3, "audio/mpeg")
        assert (await api.upload_voice(voice_amr(), "voice.amr"))  # AMR is taken too
        with pytest.raises(IntegrationError, match="invalid file type"):
            await api.upload_voice(b"<html>not audio</html>")
        with pytest.raises(IntegrationError, match="meida size"):  # WeChat's own spelling
            await api.upload_voice(await speak("字" * 260))  # 65 s: over a minute
        with pytest.raises(IntegrationError, match="too_large"):
            await api.upload_voice(b"ID3" + bytes(2 * 1024 * 1024))
        with pytest.raises(IntegrationError, match="invalid media_id"):
            await api.send_voice("o_listener", "no-such-media")


# --- text made for listening ---------------------------------------------------------------

@pytest.mark.parametrize(("written", "said"), [
    ("审核需要3个工作日", "审核需要三个工作日。"),
    ("12月3日上午9:00-12:00办理", "十二月三日上午九点到中午十二点办理。"),
    ("下午14:30前到", "下午两点半前到。"),
    ("工作日晚上 17:00-19:00", "工作日下午五点到晚上七点。"),
    ("工本费¥20", "工本费二十元。"),
    ("收费20元，补贴1200元/月", "收费二十元，补贴一千二百元每月。"),
    ("户口本/居住证", "户口本或居住证。"),
    ("请带照片2张", "请带照片两张。"),
    ("电话0371-65123456", "电话零三七幺，六五幺二三四五六。"),
    ("手机13800001234", "手机幺三八零零零零幺二三四。"),
    ("受理编号BM261201ABCDE", "受理编号BM二六幺二零幺ABCDE。"),
    ("身份证号11010519491231002X", "身份证号幺幺零幺零五幺九四九幺二三幺零零二叉。"),
    ("1. 身份证\n2. 户口本（原件）\n3. 照片", "第一，身份证。第二，户口本，原件。第三，照片。"),
    ("详见 https://example.cn/guide?id=3 👍", "详见。"),
    ("「低保」要带啥：【必带】身份证", "低保要带啥，必带身份证。"),
    ("村（居）委会出具", "村居委会出具。"),
    ("2026年1月5日", "二零二六年一月五日。"),
    ("3-5个工作日", "三到五个工作日。"),
    ("第2个", "第二个。"),
    ("报销比例80%", "报销比例百分之八十。"),
    ("满1.5年", "满一点五年。"),
])
def test_text_is_made_for_listening(written, said):
    assert for_listening(written) == said


@pytest.mark.parametrize(("value", "words"), [
    (0, "零"), (10, "十"), (15, "十五"), (34, "三十四"), (105, "一百零五"), (1010, "一千零一十"),
    (12000, "一万二千"), (10086, "一万零八十六"), (3000000, "三百万"),
])
def test_numbers_are_said_as_words(value, words):
    assert number_words(value) == words


def test_long_answers_are_cut_at_sentence_ends_into_short_parts():
    text = for_listening("\n".join(f"{i}. 材料{'很长的说明' * (i % 10)}" for i in range(1, 30)))
    cut = parts(text, 60)
    assert "".join(cut) == text
    assert all(len(part) <= 60 for part in cut)
    assert all(part.endswith("。") for part in cut[:-1])


class Synth:
    name, max_chars = "scripted", 150

    async def synthesize(self, text):
        return text.encode()


class Uploads:
    def __init__(self):
        self.uploaded = []

    async def upload_voice(self, content, filename="voice.mp3"):
        self.uploaded.append(content.decode())
        return f"m{len(self.uploaded)}"

    async def send_voice(self, openid, media_id):
        raise AssertionError("not sent here")


async def test_a_very_long_answer_is_at_most_four_voice_messages_each_under_a_minute():
    uploads = Uploads()
    maker = VoiceMaker(Synth(), uploads)
    media = await maker.voice_media("低保申请的材料很多，请您耐心听完。" * 60)
    assert len(media) == MAX_VOICE_MESSAGES and uploads.uploaded[-1] == MORE_IN_TEXT
    assert all(len(said) / 4 <= 60 for said in uploads.uploaded)
    with pytest.raises(IntegrationError, match="nothing to read"):  # the text goes instead
        await maker.voice_media("https://example.cn 👍")


# --- the story over /wechat ----------------------------------------------------------------

@pytest.fixture
async def voice_app(remote_settings, real_redis, sessions, tmp_path, fake_tts):
    settings = dataclasses.replace(
        wechat_settings(remote_settings), wechat_rate_limit=1000, notice_worker=False,
        database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files", tts_provider="tencent",
        tts_key_id=KEY_ID, tts_secret=Secret(SECRET), tts_endpoint=fake_tts.tencent_endpoint)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client, fake_tts
    await client.close()


class Listener(Phone):
    """A villager's WeChat that also plays voice messages: every push answers its passive
    reply as ("text", …) or ("voice", media id)."""

    async def asks(self, text):
        _, body = await post(self.client, text_xml(text, user=self.user,
                                                   msg_id=next(MESSAGE_IDS)))
        if body == "success":
            return "none", ""
        xml = xmltodict.parse(body)["xml"]
        if xml["MsgType"] == "voice":
            return "voice", xml["Voice"]["MediaId"]
        return "text", xml["Content"]

    async def hears(self, media_id):
        """The voice message's file, as the phone downloads it from WeChat."""
        async with aiohttp.ClientSession() as session, session.get(
                f"{self.client.server.app[FAKE_WECHAT_URL]}/fake/media",
                params={"media_id": media_id}) as response:
            assert response.content_type == "audio/mpeg"
            return await response.read()

    async def customer_service(self, count, timeout=10.0):
        """The customer-service messages that came after the passive reply (waits for them)."""
        deadline = time.monotonic() + timeout
        while True:
            async with aiohttp.ClientSession() as session, session.get(
                    f"{self.client.server.app[FAKE_WECHAT_URL]}/fake/outbox",
                    params={"openid": self.user}) as response:
                sent = await response.json()
            if len(sent) >= count or time.monotonic() > deadline:
                return sent
            await asyncio.sleep(0.05)


async def test_a_villager_asks_for_the_answer_to_be_read_aloud_and_hears_it(voice_app):
    client, tts = voice_app
    villager = Listener(client, "o_listener")
    kind, question = await villager.asks("低保要带什么")
    assert kind == "text" and "1. 农村低保" in question  # which one: a numbered choice
    kind, answer = await villager.asks("1")
    assert kind == "text" and "身份证" in answer
    kind, media_id = await villager.asks("念给我听")
    assert kind == "voice"  # the passive reply itself, within WeChat's 5 s
    said = VoiceMaker(Synth(), Uploads()).parts(answer)  # Tencent's 150 characters a part
    rest = await villager.customer_service(len(said) - 1)
    voices = [media_id] + [m["voice"]["media_id"] for m in rest]
    assert [m["msgtype"] for m in rest] == ["voice"] * (len(said) - 1)
    heard = [await villager.hears(m) for m in voices]
    assert [tts.state.text_of(mp3) for mp3 in heard] == said  # the answer, made for listening
    assert "第一，书面申请书" in said[0] and "村居委会出具" in said[0]  # 1. …, 村（居）委会
    assert not any(c.isdigit() for c in "".join(said))
    for mp3, part in zip(heard, said, strict=True):
        assert abs(await seconds_of(mp3) - max(1, len(part) / 4)) < 0.5  # real audio, ≤ 60 s


async def test_voice_once_set_applies_to_the_next_answers_until_turned_off(voice_app):
    client, tts = voice_app
    villager = Listener(client, "o_always")
    kind, text = await villager.asks("以后都用语音")
    assert kind == "text" and "念给您听" in text
    [confirmed] = await villager.customer_service(1)
    assert confirmed["msgtype"] == "voice"
    kind, answer = await villager.asks("几点上班")  # the text at once, its voice after
    assert kind == "text" and "上午" in answer
    said = VoiceMaker(Synth(), Uploads()).parts(answer)
    sent = (await villager.customer_service(1 + len(said)))[1:]
    assert [m["msgtype"] for m in sent] == ["voice"] * len(said)
    assert [tts.state.text_of(await villager.hears(m["voice"]["media_id"])) for m in sent] \
        == said
    assert "".join(said) == for_listening(answer)
    kind, text = await villager.asks("不要语音")
    assert kind == "text" and "只发文字" in text
    spoken_before = tts.state.requests
    kind, _ = await villager.asks("几点上班")
    await client.server.app[WEBHOOK].close()  # what was still being sent is sent
    assert kind == "text" and tts.state.requests == spoken_before
    assert len(await villager.customer_service(0)) == 1 + len(said)  # nothing more came


async def test_with_the_tts_down_the_text_still_arrives(voice_app):
    client, tts = voice_app
    villager = Listener(client, "o_no_voice")
    _, answer = await villager.asks("几点上班")
    tts.state.down = True
    assert await villager.asks("念给我听") == ("text", answer)
    kind, text = await villager.asks("以后都用语音")
    assert kind == "text" and "念给您听" in text
    _, answer = await villager.asks("几点上班")
    await client.server.app[WEBHOOK].close()  # what was still being sent is sent
    assert await villager.customer_service(0) == []  # the text was written: not twice


async def test_nothing_to_read_yet_and_no_voice_configured(voice_app, remote_settings,
                                                          real_redis, sessions, tmp_path):
    client, _ = voice_app
    kind, text = await Listener(client, "o_new").asks("念给我听")
    assert kind == "text" and "还没有可以念的内容" in text
    # no TTS configured and no simulator (whose demo would speak through a local fake)
    settings = dataclasses.replace(wechat_settings(remote_settings), wechat_rate_limit=1000,
                                   database_url=TEST_DATABASE_URL, files_dir=tmp_path / "f",
                                   simulator=False)
    plain = TestClient(TestServer(create_app(settings)))
    await plain.start_server()
    try:
        kind, text = await Listener(plain, "o_plain").asks("念给我听")
        assert kind == "text" and "还不能发语音" in text
    finally:
        await plain.close()


async def test_a_slow_asr_ends_in_a_customer_service_message(remote_settings, real_redis,
                                                             sessions, tmp_path):
    """WeChat waits 5 s for the passive reply: a provider slower than the budget leaves
    `success`, and the answer follows by the customer-service API."""
    async with start_fake_asr() as asr:
        settings = dataclasses.replace(
            wechat_settings(remote_settings), wechat_rate_limit=1000, notice_worker=False,
            database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files",
            wechat_reply_budget=0.5, asr_provider="tencent", asr_key_id=KEY_ID,
            asr_secret=Secret(SECRET), asr_endpoint=asr.tencent_endpoint)
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        try:
            asr.state.delay = 1.0  # past the budget, within the adapter's own 4 s
            asr.state.will_hear("几点上班")
            villager = Listener(client, "o_slow")
            assert await villager.sends_voice(voice_amr()) == ""  # `success`
            [late] = await villager.customer_service(1)
            assert late["msgtype"] == "text" and "上午" in late["text"]["content"]
        finally:
            await client.close()


# --- notices ------------------------------------------------------------------------------

async def test_a_villager_who_wants_voice_hears_notices_too(sessions, real_redis, fake_tts):
    """After the template message, a customer-service voice message of the notice's text;
    the SMS fallback stays as it was (nothing read aloud for a villager it went to)."""
    async with start_fake_wechat() as wechat, start_fake_sms(SMS_TEMPLATES) as sms, \
            aiohttp.ClientSession() as session:
        api = WeChatApi(session, real_redis, wechat.app_id, wechat.secret, wechat.url)
        preferences = VoicePreferences(real_redis)
        aloud = VoiceNotices(VoiceMaker(TencentTts(
            session, KEY_ID, SECRET, endpoint=fake_tts.tencent_endpoint), api), preferences)
        worker, _ = make_worker(sessions, real_redis, (wechat, sms, session), Clock(DAYTIME),
                                aloud=aloud)
        for user in ("o_ears", "o_gone_ears"):
            await preferences.set_voice(user, True)
        wechat.state.unfollowed.add("o_gone_ears")
        await add_event(sessions, "booking.created", **booked(user="o_ears"))
        await add_event(sessions, "booking.created", **booked(user="o_eyes", phone="13900002222"))
        await add_event(sessions, "booking.created", **booked(user="o_gone_ears",
                                                              phone="13700003333"))
        assert await worker.run_once() == 3
        sent = {(m["touser"], m["msgtype"]) for m in wechat.state.outbox}
        assert sent == {("o_ears", "template"), ("o_ears", "voice"), ("o_eyes", "template")}
        [voice] = [m for m in wechat.state.outbox if m["msgtype"] == "voice"]
        mp3, _ = wechat.state.media[voice["voice"]["media_id"]]
        assert fake_tts.state.text_of(mp3).startswith("预约成功，十一月二十八日，周六，上午九点")
        assert [m["phone"] for m in sms.state.outbox] == ["13700003333"]  # as before


# --- the dialogue alone (a scripted NLU) ---------------------------------------------------

class Listeners:
    """The voice preference in memory (bot/voice.py keeps it in Redis)."""

    def __init__(self):
        self.on = set()

    async def wants_voice(self, user_id):
        return user_id in self.on

    async def set_voice(self, user_id, on):
        (self.on.add if on else self.on.discard)(user_id)


@pytest.fixture
def spoken_dialogue(real_redis):
    directory = Settings.from_env({}).catalogue_dir
    listeners = Listeners()
    return Dialogue(ScriptedNlu(), StateStore(real_redis), load_catalogue(directory),
                    load_center(directory), voice=listeners), listeners


async def turn_of(dialogue, text, user="o_dialogue", channel=Channel.WECHAT):
    turn = await dialogue.handle(Incoming(channel, user, Kind.TEXT, datetime.now(UTC),
                                          text=text))
    return ([r.text for r in turn.replies if not r.read_aloud],
            [r.text for r in turn.replies if r.read_aloud])


async def test_the_dialogue_decides_what_is_read_aloud(spoken_dialogue):
    dialogue, listeners = spoken_dialogue
    assert await turn_of(dialogue, "念给我听") == ([texts.NOTHING_TO_READ], [])
    written, aloud = await turn_of(dialogue, "几点上班")
    assert written and aloud == []
    assert await turn_of(dialogue, "念给我听。") == ([], written)  # the last answer, only heard
    assert await turn_of(dialogue, "读一下") == ([], written)  # again: still the answer
    on, aloud = await turn_of(dialogue, "以后都用语音")
    assert aloud == on and "o_dialogue" in listeners.on
    written, aloud = await turn_of(dialogue, "低保要多久")
    assert aloud == ["\n".join(written)]  # written and heard
    assert await turn_of(dialogue, "不要语音") == ([texts.VOICE_OFF], [])
    assert not listeners.on
    assert (await turn_of(dialogue, "几点上班"))[1] == []


async def test_an_sms_villager_is_told_no_voice_and_gets_each_answer_once(spoken_dialogue):
    """Found by review: by SMS, 「以后都用语音」 was taken, and every later answer then went
    twice as text (the read-aloud copy too) — twice the SMS, twice the cost."""
    dialogue, listeners = spoken_dialogue
    phone = "13912345678"
    written, aloud = await turn_of(dialogue, "以后都用语音", phone, Channel.SMS)
    assert "还不能发语音" in written[0] and aloud == [] and not listeners.on
    listeners.on.add(phone)  # said on WeChat once, by the same number: still text only
    assert (await turn_of(dialogue, "几点上班", phone, Channel.SMS))[1] == []
    written, aloud = await turn_of(dialogue, "念给我听", phone, Channel.SMS)
    assert "还不能发语音" in written[0] and aloud == []
