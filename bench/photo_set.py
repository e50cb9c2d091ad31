"""Synthetic phone photos of papers, from a seed: a page of text-like lines (a title, paragraphs,
form rows, a signature) on a table, in perspective like a hand-held phone, lit and JPEG
compressed — good ones with mild variation, and degraded ones, one defect each.

Used by bench/photos.py (the photo check's figures) and the tests of bot/cases/photo_check.py.
Severities are relative to the photo's size, so a 4000×3000 photo and a 1280×960 one with the
same defect look alike once both fit a screen.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GOOD = "good"
DEFECTS = ("blurred", "dark", "overexposed", "too_small", "cut_off", "rotated")
A4 = 297 / 210
INK = 35


@dataclass(frozen=True, slots=True)
class Photo:
    kind: str  # GOOD or one of DEFECTS
    content: bytes
    size: tuple[int, int]
    turn: int = 0  # for "rotated": degrees counter-clockwise (PIL's rotate) to upright
    note: str = ""  # the severity, for a look at misses


def _glyph(draw: ImageDraw.ImageDraw, rng: random.Random, x: float, y: float, size: float,
           width: int) -> None:
    """A character-like block: a few horizontal, vertical and slanted strokes in its cell."""
    for _ in range(rng.randint(3, 6)):
        kind = rng.random()
        if kind < 0.45:
            y0 = y + rng.uniform(0.1, 0.9) * size
            x0, x1 = sorted((x + rng.uniform(0.05, 0.5) * size, x + rng.uniform(0.5, 0.95) * size))
            draw.line((x0, y0, x1, y0), fill=INK, width=width)
        elif kind < 0.85:
            x0 = x + rng.uniform(0.1, 0.9) * size
            y0, y1 = sorted((y + rng.uniform(0.05, 0.5) * size, y + rng.uniform(0.5, 0.95) * size))
            draw.line((x0, y0, x0, y1), fill=INK, width=width)
        else:
            draw.line((x + rng.uniform(0.1, 0.5) * size, y + rng.uniform(0.1, 0.5) * size,
                       x + rng.uniform(0.5, 0.9) * size, y + rng.uniform(0.5, 0.9) * size),
                      fill=INK, width=width)


def _line(draw: ImageDraw.ImageDraw, rng: random.Random, x: float, y: float, chars: int,
          size: float) -> None:
    width = max(1, round(size / 11))
    for n in range(chars):
        if rng.random() > 0.06:  # an occasional space or punctuation gap
            _glyph(draw, rng, x + n * size * 1.05, y, size, width)


def page(rng: random.Random, width: int) -> Image.Image:
    """An upright A4 page `width` pixels wide: a centred title, paragraphs (first line
    indented, the last one short), form rows, and a signature and date on the right."""
    height = round(width * A4)
    paper = rng.randint(236, 250)
    image = Image.new("L", (width, height), paper)
    draw = ImageDraw.Draw(image)
    margin = width * rng.uniform(0.08, 0.12)
    per_line = rng.randint(22, 38)
    size = (width - 2 * margin) / per_line / 1.05
    title = rng.randint(5, 12)
    big = min(size * 1.8, (width - 2 * margin) / title / 1.05)
    y = height * rng.uniform(0.06, 0.1)
    _line(draw, rng, (width - title * big * 1.05) / 2, y, title, big)
    y += big * 2.5
    bottom = height * 0.8
    while y < bottom - size * 3:
        if rng.random() < 0.3:  # a form row: 「姓名：______」 of some length
            _line(draw, rng, margin, y, rng.randint(3, per_line * 2 // 3), size)
            y += size * 1.9
            continue
        for n in range(rng.randint(2, 5)):
            last = n == 4 or rng.random() < 0.3
            chars = rng.randint(3, per_line - 4) if last else per_line - (2 if n == 0 else 0)
            _line(draw, rng, margin + (2 * size * 1.05 if n == 0 else 0), y, chars, size)
            y += size * 1.6
            if last or y > bottom:
                break
        y += size * 0.8
    for chars in (rng.randint(4, 8), 10):  # the signature, then the date, on the right
        _line(draw, rng, width - margin - chars * size * 1.05, y + size, chars, size)
        y += size * 1.8
    return image


def _table(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A table top: a plain colour with a soft gradient and some grain."""
    width, height = size
    base = rng.uniform(45, 160)
    gradient = np.linspace(-1, 1, width)[None, :] * rng.uniform(-20, 20) + \
        np.linspace(-1, 1, height)[:, None] * rng.uniform(-20, 20)
    small = np.random.default_rng(rng.getrandbits(32)).normal(0, 6, (height // 8 + 1,
                                                                     width // 8 + 1))
    grain = np.kron(small, np.ones((8, 8)))[:height, :width]
    return Image.fromarray(np.clip(base + gradient + grain, 0, 255).astype(np.uint8))


def _coefficients(target: list[tuple[float, float]], source: list[tuple[float, float]]
                  ) -> list[float]:
    """PIL's perspective coefficients mapping the output's `target` corners to `source`."""
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solved = np.linalg.solve(np.array(rows), np.array(source).reshape(8))
    return [float(c) for c in solved]


def _place(rng: random.Random, sheet: Image.Image, size: tuple[int, int], fill: float,
           tilt: float, shift: tuple[float, float] = (0.0, 0.0)) -> Image.Image:
    """The page on the table: `fill` of the frame's height, turned by `tilt` degrees, its
    corners pulled a little as a hand-held phone does, centred plus `shift` (of the frame)."""
    width, height = size
    page_h = height * fill
    page_w = page_h / A4
    cx = width / 2 + shift[0] * width + rng.uniform(-0.03, 0.03) * width
    cy = height / 2 + shift[1] * height + rng.uniform(-0.02, 0.02) * height
    angle = np.radians(tilt)
    corners = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = dx * page_w / 2, dy * page_h / 2
        jitter = rng.uniform(-0.025, 0.025) * page_w, rng.uniform(-0.02, 0.02) * page_h
        corners.append((cx + x * np.cos(angle) - y * np.sin(angle) + jitter[0],
                        cy + x * np.sin(angle) + y * np.cos(angle) + jitter[1]))
    sw, sh = sheet.size
    warped = sheet.transform(size, Image.Transform.PERSPECTIVE,
                             _coefficients(corners, [(0, 0), (sw, 0), (sw, sh), (0, sh)]),
                             Image.Resampling.BILINEAR, fillcolor=0)
    mask = Image.new("L", sheet.size, 255).transform(
        size, Image.Transform.PERSPECTIVE,
        _coefficients(corners, [(0, 0), (sw, 0), (sw, sh), (0, sh)]),
        Image.Resampling.BILINEAR, fillcolor=0)
    photo = _table(rng, size)
    photo.paste(warped, (0, 0), mask)
    return photo


def _light(rng: random.Random, photo: Image.Image, gain: float, flare: float, noise: float,
           shadow: bool) -> Image.Image:
    """Exposure (gain, flare), an optional soft shadow across part of the page, vignetting and
    sensor noise, in colour (a slightly warm or cool cast)."""
    width, height = photo.size
    lum = np.asarray(photo, dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = ((xx - width / 2) / width) ** 2 + ((yy - height / 2) / height) ** 2
    light = gain * (1 - rng.uniform(0.1, 0.35) * r2)
    if shadow:  # a hand or the phone between the lamp and the page
        ax, ay, c = rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-0.2, 0.2)
        side = (ax * (xx / width - 0.5) + ay * (yy / height - 0.5) - c) * 12
        light = light * (1 - rng.uniform(0.25, 0.4) / (1 + np.exp(-side)))
    values = lum * light + flare
    rgb = np.stack([values * rng.uniform(0.95, 1.05), values, values * rng.uniform(0.92, 1.04)],
                   axis=-1)
    grain = np.random.default_rng(rng.getrandbits(32)).normal(0, noise, rgb.shape[:2])
    return Image.fromarray(np.clip(rgb + grain[..., None], 0, 255).astype(np.uint8))


def _motion(photo: Image.Image, length: int, angle: float) -> Image.Image:
    """A straight shake of `length` pixels at `angle` degrees."""
    turned = photo.rotate(angle, Image.Resampling.BILINEAR, expand=False)
    array = np.asarray(turned, dtype=np.float32)
    kernel = np.cumsum(array, axis=1)
    smeared = (kernel[:, length:] - kernel[:, :-length]) / length
    padded = np.pad(smeared, ((0, 0), (length // 2, length - length // 2), (0, 0)),
                    mode="edge")
    back = Image.fromarray(padded.astype(np.uint8)).rotate(-angle, Image.Resampling.BILINEAR)
    # the corners the two turns lost come from the unshaken photo
    mask = Image.new("L", photo.size, 255).rotate(angle).rotate(-angle)
    return Image.composite(back, photo.filter(ImageFilter.GaussianBlur(length / 3)), mask)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def make_photo(rng: random.Random, kind: str, size: tuple[int, int] = (1280, 960)) -> Photo:
    """One photo of `kind` (GOOD or a defect), `size` as the phone took it (portrait pages
    in a portrait frame, some in a landscape one)."""
    portrait = rng.random() < 0.7
    frame = (min(size), max(size)) if portrait else (max(size), min(size))
    scale = max(size) / 1280  # severities are given for a 1280-pixel photo
    fill = rng.uniform(0.72, 0.92) if portrait else rng.uniform(0.8, 0.95)
    tilt = rng.uniform(-4, 4)
    gain, flare, noise = rng.uniform(0.82, 0.96), rng.uniform(0, 12), rng.uniform(1.5, 4)
    shadow = rng.random() < 0.3
    soft = rng.uniform(0, 0.8) * scale
    quality = rng.randint(70, 92)
    note = ""
    shift = (0.0, 0.0)
    if kind == "too_small":
        long_side = rng.randint(320, 800)
        frame = (round(frame[0] * long_side / max(frame)), round(frame[1] * long_side / max(frame)))
        scale, soft, note = long_side / 1280, 0.0, f"{frame[0]}×{frame[1]}"
    elif kind == "cut_off":
        out = rng.uniform(0.25, 0.5)
        direction = rng.choice(((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1)))
        page_w, page_h = fill * frame[1] / A4 / frame[0], fill
        shift = (direction[0] * (out * page_w + (1 - page_w) / 2),
                 direction[1] * (out * page_h + (1 - page_h) / 2))
        note = f"{out:.0%} out"
    elif kind == "dark":
        gain, noise = rng.uniform(0.1, 0.3), rng.uniform(3, 7)
        flare, note = rng.uniform(0, 6), f"gain {gain:.2f}"
    elif kind == "overexposed":
        gain, flare = rng.uniform(1.6, 2.6), rng.uniform(20, 80)
        note = f"gain {gain:.2f} flare {flare:.0f}"
    sheet = page(rng, round(fill * frame[1] / A4 * 1.1))
    photo = _light(rng, _place(rng, sheet, frame, fill, tilt, shift), gain, flare, noise, shadow)
    if kind == "blurred":
        if rng.random() < 0.5:
            sigma = rng.uniform(2.5, 6) * scale
            photo, note = photo.filter(ImageFilter.GaussianBlur(sigma)), f"focus σ {sigma:.1f}"
        else:
            length = round(rng.uniform(10, 24) * scale)
            photo = _motion(photo, length, rng.uniform(0, 180))
            note = f"shake {length} px"
    elif soft > 0.3:
        photo = photo.filter(ImageFilter.GaussianBlur(soft))
    turn = 0
    if kind == "rotated":
        turn = rng.choice((90, 180, 270))
        photo, note = photo.rotate(-turn, expand=True), f"turned {turn}° clockwise"
    return Photo(kind, _jpeg(photo, quality), photo.size, turn, note)


def photo_set(seed: int, per_kind: int, good: int, size: tuple[int, int] = (1280, 960)
              ) -> list[Photo]:
    """`good` good photos and `per_kind` of each defect, all from `seed`."""
    rng = random.Random(seed)
    kinds = [GOOD] * good + [kind for kind in DEFECTS for _ in range(per_kind)]
    return [make_photo(rng, kind, size) for kind in kinds]
