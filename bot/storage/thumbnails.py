"""Storage stage: a small JPEG of a photo, for lists of materials and chats — a page with
ten phone photos would otherwise load 30 MB. Turned as the phone meant (EXIF orientation).
"""

from __future__ import annotations

import asyncio
import io

from PIL import Image, ImageOps, UnidentifiedImageError

THUMBNAIL_PIXELS = 240  # the longer side
Image.MAX_IMAGE_PIXELS = 60_000_000  # a phone photo is 12-50 MP; larger is a decompression bomb


def _thumbnail(content: bytes) -> bytes | None:
    try:
        with Image.open(io.BytesIO(content)) as image:
            small = ImageOps.exif_transpose(image)
            small.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
            out = io.BytesIO()
            small.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None


async def thumbnail(content: bytes) -> bytes | None:
    """The photo at most THUMBNAIL_PIXELS on its longer side; None when it is no picture
    Pillow reads (a PDF, a damaged file)."""
    return await asyncio.to_thread(_thumbnail, content)
