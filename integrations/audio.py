"""Voice messages a browser can play: WeChat sends AMR (or Speex), which no browser plays;
the static ffmpeg that imageio-ffmpeg ships turns it into WAV, which all of them do, with its
length in the header (a streamed Ogg has none: the player would show no length and could not
seek). Speech at 8 kHz is 16 kB a second: a minute-long message is under 1 MB.
"""

from __future__ import annotations

import asyncio
import struct

import imageio_ffmpeg

from integrations.errors import IntegrationError

PROVIDER = "ffmpeg"
PLAYABLE = frozenset({"audio/mpeg", "audio/wav"})  # sent as they are (Speex in Ogg is not)
TIMEOUT = 20.0  # seconds; a minute of AMR takes well under one


async def playable(content: bytes) -> bytes:
    """The voice message as 16-bit mono WAV, for a browser."""
    return await _wav(content)


async def for_recognition(content: bytes) -> bytes:
    """The voice message as speech engines take it: 16 kHz mono 16-bit WAV (WeChat's AMR is
    8 kHz: resampled)."""
    return await _wav(content, "-ar", "16000")


async def sample_voice(seconds: float) -> bytes:
    """A voice message as WeChat sends it (AMR-NB, 8 kHz) holding a tone of that length: what
    the simulator's phone "records" (the local fake speech recognition is told the words)."""
    out, err, code = await _ffmpeg(b"", "-f", "lavfi", "-i",
                                   f"sine=frequency=220:duration={seconds:.1f}", "-ar", "8000",
                                   "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k",
                                   "-f", "amr", "pipe:1")
    if code != 0 or not out.startswith(b"#!AMR"):
        raise IntegrationError(PROVIDER, code or "empty", err.decode(errors="replace")[-300:])
    return out


async def _wav(content: bytes, *options: str) -> bytes:
    out, err, code = await _ffmpeg(content, "-i", "pipe:0", "-vn", "-ac", "1", *options,
                                   "-c:a", "pcm_s16le", "-f", "wav", "pipe:1")
    data = out.find(b"data", 12)
    if code != 0 or not out.startswith(b"RIFF") or data < 0:
        raise IntegrationError(PROVIDER, code or "empty", err.decode(errors="replace")[-300:])
    # written to a pipe, the sizes in the header are left unknown: fill them in
    return (out[:4] + struct.pack("<I", len(out) - 8) + out[8:data + 4]
            + struct.pack("<I", len(out) - data - 8) + out[data + 8:])


async def _ffmpeg(content: bytes, *arguments: str) -> tuple[bytes, bytes, int]:
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *arguments,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(content), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise IntegrationError(PROVIDER, "timeout", "conversion took too long") from None
    return out, err, process.returncode or 0
