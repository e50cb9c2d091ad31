"""Voice messages a browser can play: WeChat sends AMR (or Speex), which no browser plays;
the static ffmpeg that imageio-ffmpeg ships turns it into Opus in Ogg, which all of them do.
"""

from __future__ import annotations

import asyncio

import imageio_ffmpeg

from integrations.errors import IntegrationError

PROVIDER = "ffmpeg"
PLAYABLE = frozenset({"audio/ogg", "audio/mpeg", "audio/wav"})  # sent to the browser as is
TIMEOUT = 20.0  # seconds; a minute of AMR takes well under one


async def playable(content: bytes) -> bytes:
    """The voice message as Ogg/Opus (mono, speech bitrate)."""
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
        "-vn", "-ac", "1", "-c:a", "libopus", "-b:a", "24k", "-f", "ogg", "pipe:1",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(content), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise IntegrationError(PROVIDER, "timeout", "conversion took too long") from None
    if process.returncode != 0 or not out:
        raise IntegrationError(PROVIDER, process.returncode or "empty",
                               err.decode(errors="replace")[-300:])
    return out
