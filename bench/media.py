"""What villagers send, made ready: a photo's thumbnail and a voice message's playable WAV for
the clerks, and a voice message heard by speech recognition (against the local fake: the
added latency of our side); and an answer read aloud — made for listening, synthesized by
each provider's adapter against the local fake TTS and uploaded to the fake WeChat API as
temporary media — timed per file (p50/p99) with their sizes, on this machine; then what is
left of WeChat's 5 s for the providers' own time, the NLU and the dialogue.

Photos: 12-megapixel phone JPEGs (4000×3000) of a paper; voice: WeChat's longest, 60 s of
AMR-NB. Made with the same static ffmpeg the bot ships with.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable

import aiohttp
import imageio_ffmpeg
from fakeredis import FakeAsyncRedis

from bench.common import percentile
from bot.storage.thumbnails import thumbnail
from bot.voice import VoiceMaker
from integrations.asr.tencent import TencentAsr
from integrations.audio import for_recognition, playable
from integrations.fakes.asr import KEY_ID, SECRET, start_fake_asr
from integrations.fakes.tts import APP_KEY, start_fake_tts
from integrations.fakes.wechat_api import start_fake_wechat
from integrations.tts import Synthesizer
from integrations.tts.aliyun import AliyunTts
from integrations.tts.tencent import TencentTts
from integrations.wechat_api import WeChatApi

ROUNDS = 20


def _ffmpeg(*args: str) -> bytes:
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel",
                           "error", *args, "pipe:1"], capture_output=True, check=True).stdout


WECHAT_LIMIT_MS = 5000  # WeChat drops a passive reply later than this
# A typical answer's first voice message: about 140 characters, 35 s of speech.
ANSWER = ("低保申请要带这些材料：1. 申请人身份证和户口本；2. 家庭成员收入证明；3. 残疾证或病历"
          "（有的才带）；4. 近期两寸照片2张。材料齐全的，窗口当场受理，审核要34个工作日。"
          "办理地点在便民服务中心一楼民政窗口，上午9:00-12:00，下午14:00-17:00。")


async def _timed(label: str, make: Callable[[bytes], Awaitable[bytes | None]],
                 content: bytes) -> float:
    """Prints the figures; returns the p99 in ms."""
    times: list[float] = []
    out: bytes | None = b""
    for _ in range(ROUNDS):
        start = time.perf_counter()
        out = await make(content)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{label}: {len(content) / 1024:.0f} kB in, {len(out or b'') / 1024:.0f} kB out, "
          f"p50 {percentile(times, 0.5):.0f} ms, p99 {percentile(times, 0.99):.0f} ms")
    return percentile(times, 0.99)


async def _spoken(label: str, synthesizer: Synthesizer, api: WeChatApi) -> float:
    maker = VoiceMaker(synthesizer, api)
    first = maker.parts(ANSWER)[0]

    async def read_aloud(text: bytes) -> bytes:
        return (await maker.voice_media(text.decode()))[0].encode()

    async def synthesized(text: bytes) -> bytes:
        return await synthesizer.synthesize(text.decode())

    await synthesizer.synthesize(first)  # the fake makes each text's MP3 once: not timed
    await _timed(f"{label}: synthesis alone ({len(first)} characters, a {len(first) // 4} s "
                 "MP3)", synthesized, first.encode())
    return await _timed(f"{label}: answer read aloud (listening text, synthesis, upload "
                        "as temporary voice; the fake WeChat decodes it to check its length)",
                        read_aloud, first.encode())


async def main() -> None:
    photo = _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=4000x3000", "-frames:v", "1",
                    "-c:v", "mjpeg", "-q:v", "3", "-f", "image2")
    voice = _ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=60", "-ar", "8000",
                    "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr")
    print(f"media, {ROUNDS} rounds each")
    await _timed("photo thumbnail (12 MP JPEG → 240 px)", thumbnail, photo)
    await _timed("voice for the browser (60 s AMR → WAV)", playable, voice)
    await _timed("voice for speech recognition (60 s AMR → 16 kHz WAV)", for_recognition,
                 voice)
    short = _ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=5", "-ar", "8000",
                    "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr")
    async with start_fake_asr() as fake, aiohttp.ClientSession() as session:
        asr = TencentAsr(session, KEY_ID, SECRET, endpoint=fake.tencent_endpoint)

        async def heard(content: bytes) -> bytes:
            fake.state.will_hear("我要申请高龄补贴")
            return (await asr.recognize(await for_recognition(content))).encode()

        hearing = await _timed("a 5 s voice message heard (conversion + signed call to the "
                               "local fake ASR, the provider's own time not included)", heard,
                               short)
    async with start_fake_tts() as fake_tts, start_fake_wechat() as wechat, \
            aiohttp.ClientSession() as session:
        api = WeChatApi(session, FakeAsyncRedis(decode_responses=True), wechat.app_id,
                        wechat.secret, wechat.url)
        tencent = TencentTts(session, KEY_ID, SECRET, endpoint=fake_tts.tencent_endpoint)
        aliyun = AliyunTts(session, KEY_ID, SECRET, APP_KEY, endpoint=fake_tts.aliyun_endpoint,
                           token_endpoint=fake_tts.aliyun_token_endpoint)
        speaking = max(await _spoken("Tencent TTS", tencent, api),
                       await _spoken("Aliyun TTS", aliyun, api))
    print(f"Of WeChat's {WECHAT_LIMIT_MS} ms for a passive reply, a voice question answered "
          f"by voice costs our side {hearing:.0f} + {speaking:.0f} ms (p99, ASR + TTS and "
          f"upload, the fake WeChat's decoding included): "
          f"{WECHAT_LIMIT_MS - hearing - speaking:.0f} ms are left for the providers' own "
          "time, the NLU and the dialogue. The bot stops waiting at WECHAT_REPLY_BUDGET (4 s): "
          "past it the request answers `success` and the answer — text or voice — follows by "
          "the customer-service API (tests/test_tts.py: a slow ASR ends so); the adapters "
          "give up after 4 s, and a failed voice is sent as text.")


if __name__ == "__main__":
    asyncio.run(main())
