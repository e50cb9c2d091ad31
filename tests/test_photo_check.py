"""Issue #17 item 3: the photo check on a few generated phone photos of papers per defect
(its figures on hundreds: bench/photos.py)."""

import io

import pytest
from PIL import Image, ImageOps

from bench.photo_set import DEFECTS, GOOD
from bot.cases.photo_check import (
    HINTS,
    NOT_A_PHOTO,
    Defect,
    NotAPhoto,
    check_photo,
    clerk_note,
)
from tests.media import paper_photo, photo_jpeg


@pytest.mark.parametrize("seed", [17, 18])
def test_a_good_photo_passes(seed):
    check = check_photo(paper_photo(GOOD, seed).content)
    assert check.defects == () and check.upright is None


@pytest.mark.parametrize("kind", [d for d in DEFECTS if d != "rotated"])
@pytest.mark.parametrize("seed", [17, 18])
def test_a_faulty_photo_gets_its_hint(kind, seed):
    check = check_photo(paper_photo(kind, seed).content)
    assert check.defects == (Defect(kind),)
    assert [HINTS[d] for d in check.defects] == [HINTS[Defect(kind)]]
    assert check.upright is None


def test_the_hints_say_what_to_do():
    assert HINTS[Defect.DARK] == "太暗了，请到亮的地方再拍一张"
    assert HINTS[Defect.BLURRED] == "照片有点糊，请拿稳手机、对好焦再拍一张"
    assert HINTS[Defect.CUT_OFF] == "有一部分没拍进去，请把整张纸都拍进来"


@pytest.mark.parametrize("seed", [17, 19])
def test_a_photo_on_its_side_is_straightened(seed):
    photo = paper_photo("rotated", seed)
    check = check_photo(photo.content)
    assert check.defects == (Defect.ROTATED,) and check.turned == photo.turn
    assert check.upright is not None
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(check.upright)))
    taken = Image.open(io.BytesIO(photo.content)).rotate(photo.turn, expand=True)
    assert upright.tobytes() == taken.tobytes()  # as photographed, not a pixel lost
    assert check_photo(check.upright).defects == ()  # and judged upright now


def test_an_upside_down_page_is_turned_over():
    upside_down = Image.open(io.BytesIO(paper_photo(GOOD, 18).content)).rotate(180)
    out = io.BytesIO()
    upside_down.save(out, "PNG")  # not a JPEG: turned and saved again
    check = check_photo(out.getvalue())
    assert check.turned == 180 and check.upright is not None
    assert Image.open(io.BytesIO(check.upright)).format == "JPEG"


def test_what_is_no_photo_is_said_so():
    for content in (b"MZ this is a program", paper_photo().content[:2000]):
        with pytest.raises(NotAPhoto, match=NOT_A_PHOTO):
            check_photo(content)


def test_a_plain_small_picture_is_too_small():
    assert Defect.TOO_SMALL in check_photo(photo_jpeg()).defects  # 320×240


def test_the_clerk_reads_what_was_kept_anyway():
    assert clerk_note("blurred") == "照片模糊：村民看过重拍提示，仍用了这张"
    assert clerk_note("dark,too_small") == "照片太暗、太小：村民看过重拍提示，仍用了这张"
    assert clerk_note("rotated") == "照片收到时是歪的或倒的，已自动转正"
