"""One parser for every numbered choice: by number, in words, or by what the option says."""

import pytest

from bot.flows.choice import choice_number, describes_option, pick_option

SLOTS = ["11月28日（周六）上午9:00（延时服务）", "11月28日（周六）上午9:30（延时服务）",
         "11月30日（周一）下午1:00", "11月30日（周一）下午2:30"]


@pytest.mark.parametrize(("text", "chosen"), [
    ("1", 1), ("１", 1), ("2.", 2), ("第3个", 3), ("第二个", 2), ("二", 2), ("第一个吧", 1),
    ("12", 12), ("123", None), ("好的", None), ("第", None),
])
def test_a_number_however_it_is_written(text, chosen):
    assert choice_number(text) == chosen


@pytest.mark.parametrize(("text", "chosen"), [
    ("9点半那个", 2), ("周六9点的", 1), ("星期一下午2点半", 4), ("下午1点", 3),
    ("第四个", 4), ("周六上午那个", None),  # two fit: asked again, not guessed
    ("周三", None),
])
def test_an_option_by_what_it_says(text, chosen):
    assert pick_option(text, SLOTS) == chosen


def test_what_can_pick_an_option():
    assert describes_option("9点半那个") and describes_option("第二个")
    assert not describes_option("低保要带啥")
