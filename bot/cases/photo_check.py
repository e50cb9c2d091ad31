"""Domain services stage: a photo of a paper checked on arrival — too small, too dark or
overexposed, blurred, partly out of the frame, or lying on its side or upside down — so the
villager can retake it at once rather than hear from the clerk days later.

Pillow decodes a phone photo at a reduced scale (JPEG's DCT scaling: a 4000×3000 photo is read
as 1000×750), numpy measures it there:
- exposure: how bright the paper is (the brightest percent) and how much is blown out;
- blur: the blur effect of Crete et al. (2007) — how much of the edges' contrast a further
  blur takes away: little when the photo is blurred already;
- cut off: the page (the bright region once the text is smoothed away) meeting the frame's
  edge along a long stretch with text running into it;
- rotation: text lines run across the page — across, not down, once upright — and a page's
  lines start at one margin and end ragged (short last lines, form rows), its title on top.
Thresholds were tuned on bench/photos.py's generated set of the tuning seed; its figures are
reported on another seed's set.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

Mask = NDArray[np.bool_]


class Defect(StrEnum):
    TOO_SMALL = "too_small"
    DARK = "dark"
    OVEREXPOSED = "overexposed"
    BLURRED = "blurred"
    CUT_OFF = "cut_off"
    ROTATED = "rotated"  # straightened here: no retake needed


HINTS = {
    Defect.TOO_SMALL: "照片太小，看不清字，请离近一点、发原图再拍一张",
    Defect.DARK: "太暗了，请到亮的地方再拍一张",
    Defect.OVEREXPOSED: "太亮了，字看不清，请避开强光（别开闪光灯）再拍一张",
    Defect.BLURRED: "照片有点糊，请拿稳手机、对好焦再拍一张",
    Defect.CUT_OFF: "有一部分没拍进去，请把整张纸都拍进来",
}  # a turned photo needs no retake: it is straightened here
KNOWN = frozenset(Defect)
CLERK_WORDS = {  # what a clerk reads beside the photo
    Defect.TOO_SMALL: "太小", Defect.DARK: "太暗", Defect.OVEREXPOSED: "过亮",
    Defect.BLURRED: "模糊", Defect.CUT_OFF: "没拍全",
}
KEPT_DESPITE = "照片{words}：村民看过重拍提示，仍用了这张"
STRAIGHTENED = "照片收到时是歪的或倒的，已自动转正"
NOT_A_PHOTO = "这个文件打不开，不是照片或照片已损坏，请重新拍一张发过来"
TOO_MANY_PIXELS = "照片太大了，请用手机相机正常拍一张发过来"

ORIENTATION = 0x0112  # the EXIF tag of which way the phone was held
SHOWN_UPRIGHT = {90: 8, 180: 3, 270: 6}  # the EXIF orientation for a turn counter-clockwise
WORKING_SIDE = 1000  # pixels on the longer side where the photo is measured
MIN_SHORT_SIDE = 600  # below this a page's small print is unreadable
DARK_PAPER = 125  # the brightest percent of a dark photo's pixels is below this
BLOWN = 250  # a pixel this bright has lost what was written there
BLOWN_SHARE = 0.2  # more of the photo than this blown out: overexposed
BLUR_EFFECT = 0.34  # Crete's blur effect above this: blurred
CUT_TOUCH = 0.3  # the page meets one frame edge along this much of it…
CUT_INK = 0.004  # …with this much text in the strip along that edge
TEXT_ACROSS = 1.25  # lines across must beat lines down by this much to turn a photo
UPSIDE_DOWN = 0.05  # evidence of ragged starts and a title at the bottom to turn it over
TITLE = 0.15  # the weight of the title's place in that evidence


class NotAPhoto(Exception):
    """Content that is not a picture Pillow reads; the message is for the villager."""


@dataclass(frozen=True, slots=True)
class PhotoCheck:
    defects: tuple[Defect, ...]
    upright: bytes | None = None  # the photo straightened (a JPEG), when it was turned
    turned: int = 0  # degrees counter-clockwise it was turned

    @property
    def stored(self) -> str:
        """The defects as the file's row keeps them."""
        return ",".join(self.defects)


def defects_of(stored: str) -> tuple[Defect, ...]:
    """The defects a file's row keeps (PhotoCheck.stored)."""
    return tuple(Defect(d) for d in stored.split(",") if d in KNOWN)


def retake_hints(defects: Sequence[Defect]) -> tuple[str, ...]:
    """What to tell the villager to retake (a turned photo is fixed here: no retake)."""
    return tuple(HINTS[d] for d in defects if d in HINTS)


def clerk_note(stored: str) -> str:
    """What a clerk reads beside a photo with these defects (PhotoCheck.stored): the flows
    keep a photo with a retake hint only when the villager chose 「就用这张」 after it."""
    found = defects_of(stored)
    words = "、".join(CLERK_WORDS[d] for d in found if d is not Defect.ROTATED)
    notes = [KEPT_DESPITE.format(words=words)] if words else []
    if Defect.ROTATED in found:
        notes.append(STRAIGHTENED)
    return "；".join(notes)


def check_photo(content: bytes) -> PhotoCheck:
    """The defects of a photo of a paper; NotAPhoto when it is none. One problem of the light
    at a time: a too dark or blown-out photo is not judged for blur or framing."""
    try:
        with Image.open(io.BytesIO(content)) as opened:
            # EXIF orientations 5-8 swap width and height
            sideways = opened.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8)
            size = opened.size[::-1] if sideways else opened.size
            opened.draft("L", (WORKING_SIDE // 2, WORKING_SIDE // 2))
            image = _working(ImageOps.exif_transpose(opened).convert("L"))
    except Image.DecompressionBombError as failed:
        raise NotAPhoto(TOO_MANY_PIXELS) from failed
    except (UnidentifiedImageError, OSError, ValueError) as failed:
        raise NotAPhoto(NOT_A_PHOTO) from failed
    defects: list[Defect] = []
    if min(size) < MIN_SHORT_SIDE:
        defects.append(Defect.TOO_SMALL)
    lit = _exposure(image)
    if lit is not None:
        return PhotoCheck((*defects, lit))
    gray = np.asarray(image, dtype=np.int16)
    if blur_effect(gray) > BLUR_EFFECT:
        return PhotoCheck((*defects, Defect.BLURRED))
    page, inside = _page(image)
    text = _ink(image, gray) & inside
    cut = cut_off(page, text)
    if cut:
        defects.append(Defect.CUT_OFF)
    if Defect.TOO_SMALL in defects:  # too few pixels a line to tell which way is up
        return PhotoCheck(tuple(defects))
    turn = upright_turn(text, whole_page=not cut)
    if turn:
        return PhotoCheck((*defects, Defect.ROTATED), _turned(content, turn), turn)
    return PhotoCheck(tuple(defects))


def _working(image: Image.Image) -> Image.Image:
    """The grey image at most WORKING_SIDE on its longer side."""
    if max(image.size) > WORKING_SIDE:
        factor = WORKING_SIDE / max(image.size)
        image = image.resize((round(image.width * factor), round(image.height * factor)),
                             Image.Resampling.BILINEAR)
    return image


def _turned(content: bytes, turn: int) -> bytes:
    """The photo turned `turn` degrees counter-clockwise. A JPEG the phone gave no
    orientation keeps its pixels and gets the EXIF orientation every viewer (and the
    thumbnails) follows — lossless, and in a millisecond; anything else is turned and saved
    again as a JPEG."""
    with Image.open(io.BytesIO(content)) as image:
        exif = image.getexif()
        if image.format == "JPEG" and exif.get(ORIENTATION, 1) == 1:
            exif[ORIENTATION] = SHOWN_UPRIGHT[turn]
            return _with_exif(content, exif.tobytes())
        upright = ImageOps.exif_transpose(image).rotate(turn, expand=True)
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=92)
        return out.getvalue()


def _with_exif(jpeg: bytes, exif: bytes) -> bytes:
    """The JPEG with its EXIF segment (APP1) replaced by `exif` (b"Exif\\0\\0…"), placed after
    the JFIF header (APP0) if there is one."""
    head, rest = jpeg[:2], jpeg[2:]
    kept: list[bytes] = []
    while len(rest) >= 4 and rest[0] == 0xFF and rest[1] not in (0xDA, 0xD9):  # up to the scan
        size = 2 + int.from_bytes(rest[2:4], "big")
        segment, rest = rest[:size], rest[size:]
        if not (segment[1] == 0xE1 and segment[4:10] == b"Exif\0\0"):
            kept.append(segment)
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    at = 1 if kept and kept[0][1] == 0xE0 else 0
    return head + b"".join([*kept[:at], app1, *kept[at:]]) + rest


def _exposure(image: Image.Image) -> Defect | None:
    counts = np.cumsum(image.histogram())
    paper = int(np.searchsorted(counts, 0.99 * counts[-1]))  # the brightest percent
    if paper < DARK_PAPER:
        return Defect.DARK
    if 1 - counts[BLOWN - 1] / counts[-1] > BLOWN_SHARE:
        return Defect.OVEREXPOSED
    return None


def blur_effect(gray: NDArray[np.int16]) -> float:
    """Crete et al.'s blur effect, 0 (sharp) to 1: the share of the edges' contrast that a
    further 9-pixel blur leaves; the worse of the two directions (every other line is
    enough to tell)."""
    effects = []
    for turned in (gray[::2], gray[:, ::2].T):
        edges = np.abs(np.diff(turned, axis=1))[:, 4:-4]
        # a 9-pixel moving average steps by a ninth of the difference 9 pixels apart
        reblurred = np.abs(turned[:, 9:] - turned[:, :-9]) / 9
        total = float(edges.sum())
        lost = float(np.maximum(0, edges - reblurred).sum())
        effects.append(1 - lost / total if total else 1.0)
    return max(effects)


def _ink(image: Image.Image, gray: NDArray[np.int16]) -> Mask:
    """Text: pixels clearly darker than the paper around them (the paper's brightness taken
    at a quarter of the size, which is as good and ten times faster)."""
    paper = image.reduce(4).filter(ImageFilter.BoxBlur(3)).resize(image.size,
                                                                  Image.Resampling.BILINEAR)
    return gray * 4 < np.asarray(paper, dtype=np.int16) * 3


def _page(image: Image.Image) -> tuple[Mask, Mask]:
    """The page (bright once its text is smoothed away: Otsu's threshold), and its inside
    less a rim, where the table's edge would pass for text; worked out at a quarter of the
    size."""
    smooth = image.reduce(4).filter(ImageFilter.BoxBlur(2))
    counts = np.array(smooth.histogram(), dtype=np.float64)
    levels = np.arange(256)
    weight, mean = np.cumsum(counts), np.cumsum(counts * levels)
    total, everything = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (everything * weight / total - mean) ** 2 / (weight * (total - weight))
    threshold = int(np.nanargmax(between))
    page = smooth.point(lambda level: 255 if level > threshold else 0)
    inside = page.filter(ImageFilter.BoxBlur(2)).point(lambda level: 255 if level == 255 else 0)
    page_mask: Mask = np.asarray(page.resize(image.size, Image.Resampling.NEAREST)) > 0
    inside_mask: Mask = np.asarray(inside.resize(image.size, Image.Resampling.NEAREST)) > 0
    return page_mask, inside_mask


def cut_off(page: Mask, text: Mask) -> bool:
    """Whether the page meets an edge of the frame along much of it with text in the strip
    along that edge (a page filling the frame with blank margins is not cut off)."""
    strip = max(4, round(min(page.shape) * 0.03))
    for edge in (np.s_[:, :strip], np.s_[:, -strip:], np.s_[:strip, :], np.s_[-strip:, :]):
        if float(page[edge].mean()) > CUT_TOUCH and float(text[edge].mean()) > CUT_INK:
            return True
    return False


def _across(ink: Mask) -> float:
    """How much more the text runs across than down: in tiles small enough for a tilted
    line to stay in its rows, the rows' ink varies (lines and gaps) more than the columns'."""
    rows = cols = 1e-6
    tile = 96
    height, width = ink.shape
    for top in range(0, height - tile + 1, tile):
        for left in range(0, width - tile + 1, tile):
            block = ink[top:top + tile, left:left + tile]
            if block.mean() < 0.02:
                continue
            rows += float(block.mean(axis=1).var())
            cols += float(block.mean(axis=0).var())
    return rows / cols


def _lines(ink: Mask) -> list[tuple[int, int, float, float]]:
    """Text lines of an upright page as (top, bottom, start, end): the rows of ink, after
    the shear (a slight tilt) that separates lines best."""
    ys, xs = np.nonzero(ink)
    if len(ys) < 200:
        return []
    sheared = [np.round(ys - slope * (xs - ink.shape[1] / 2)).astype(np.int64)
               for slope in np.linspace(-0.09, 0.09, 19)]
    shifted = max((rows - rows.min() for rows in sheared),
                  key=lambda rows: float(np.var(np.bincount(rows))))
    profile = np.bincount(shifted)
    full = profile > max(3.0, 0.08 * float(np.percentile(profile, 95)))
    lines = []
    top = None
    for y, on in enumerate([*full, False]):
        if on and top is None:
            top = y
        elif not on and top is not None:
            if y - top >= 3:
                inside = xs[(shifted >= top) & (shifted < y)]
                lines.append((top, y, float(np.percentile(inside, 1)),
                              float(np.percentile(inside, 99))))
            top = None
    return lines


def _upside_down(ink: Mask) -> float:
    """Evidence that a page with lines across is upside down (> 0) or upright (< 0): from
    line to line the starts stay at the margin while the ends jump (short last lines, form
    rows), and the title — a line clearly taller than the rest — is on top."""
    lines = _lines(ink)
    if len(lines) < 4:
        return 0.0
    starts = np.array([line[2] for line in lines])
    ends = np.array([line[3] for line in lines])
    width = float(np.percentile(ends, 90) - np.percentile(starts, 10)) or 1.0
    jumps = float(np.mean(np.abs(np.diff(starts))) - np.mean(np.abs(np.diff(ends)))) / width
    heights = np.array([line[1] - line[0] for line in lines])
    tallest = int(np.argmax(heights))
    if heights[tallest] < 1.3 * np.median(heights):
        return jumps
    where = tallest / (len(lines) - 1)  # 0 the first line, 1 the last
    return jumps + (TITLE if where >= 0.85 else -TITLE if where <= 0.15 else 0.0)


def upright_turn(ink: Mask, whole_page: bool = True) -> int:
    """Degrees counter-clockwise that make the page upright (0, 90, 180 or 270), from the
    text on the page; upside down is told only on a whole page (a cut one has lost the
    margins and lines that tell)."""
    across = _across(ink)
    if across < 1 / TEXT_ACROSS:  # lines run down: on its side
        turned = np.rot90(ink)  # numpy's rot90 turns counter-clockwise, like the answer
        return 90 if _upside_down(turned) <= 0 else 270
    if whole_page and across > TEXT_ACROSS and _upside_down(ink) > UPSIDE_DOWN:
        return 180
    return 0
