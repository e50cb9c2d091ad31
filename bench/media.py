"""What villagers send, made ready for the clerks: a photo's thumbnail and a voice message's
playable WAV, timed per file (p50/p99) with their sizes, on this machine's CPU.

Photos: 12-megapixel phone JPEGs (4000×3000) of a paper; voice: WeChat's longest, 60 s of
AMR-NB. Made with the same static ffmpeg the bot ships with.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable

import imageio_ffmpeg

from bench.common import percentile
from bot.storage.thumbnails import thumbnail
from integrations.audio import playable

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


if __name__ == "__main__":
    asyncio.run(main())
