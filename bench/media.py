"""What villagers send, made ready: a photo's thumbnail and a voice message's playable WAV for
the clerks, and a voice message heard by speech recognition (against the local fake: the
added latency of our side), timed per file (p50/p99) with their sizes, on this machine.

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

from bench.common import percentile
from bot.storage.thumbnails import thumbnail
from integrations.asr.tencent import TencentAsr
from integrations.audio import for_recognition, playable
from integrations.fakes.asr import KEY_ID, SECRET, start_fake_asr

ROUNDS = 20


def _ffmpeg(*args: str) -> bytes:
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel",
                           "error", *args, "pipe:1"], capture_output=True, check=True).stdout


async def _timed(label: str, make: Callable[[bytes], Awaitable[bytes | None]],
                 content: bytes) -> None:
    times: list[float] = []
    out: bytes | None = b""
    for _ in range(ROUNDS):
        start = time.perf_counter()
        out = await make(content)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{label}: {len(content) / 1024:.0f} kB in, {len(out or b'') / 1024:.0f} kB out, "
          f"p50 {percentile(times, 0.5):.0f} ms, p99 {percentile(times, 0.99):.0f} ms")


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

        await _timed("a 5 s voice message heard (conversion + signed call to the local "
                     "fake ASR, the provider's own time not included)", heard, short)
    print("WeChat wants the passive reply within 5 s (the bot answers `success` after 4 s and "
          "sends the answer by the customer-service API): what the provider takes comes "
          "off that budget; TencentAsr and AliyunAsr give up after 4 s")


if __name__ == "__main__":
    asyncio.run(main())
