"""Real media for the tests: made by the static ffmpeg the bot ships with, a plain photo
(JPEG) and a voice message as WeChat sends it (AMR); and generated phone photos of a paper,
good or with one defect (bench/photo_set.py)."""

import functools
import random
import subprocess

import imageio_ffmpeg

from bench.photo_set import GOOD, Photo, make_photo


def _ffmpeg(*args: str) -> bytes:
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel",
                           "error", *args, "pipe:1"], capture_output=True, check=True).stdout


@functools.cache
def photo_jpeg() -> bytes:
    """A real 320×240 JPEG, wider than high."""
    return _ffmpeg("-f", "lavfi", "-i", "color=c=0xd8d0c0:s=320x240", "-frames:v", "1",
                   "-c:v", "mjpeg", "-f", "image2")


@functools.cache
def voice_amr() -> bytes:
    """Two seconds of AMR-NB at 8 kHz."""
    return _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-ar", "8000",
                   "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr")


@functools.cache
def paper_photo(kind: str = GOOD, seed: int = 17) -> Photo:
    """A 1280×960 phone photo of a paper, good or with the defect `kind`."""
    return make_photo(random.Random(f"{kind}-{seed}"), kind)
