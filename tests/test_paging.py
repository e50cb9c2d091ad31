"""Long answers fit WeChat's 2048-byte text reply: split at line breaks, 「继续」 for the rest."""

from bot.dialogue.words import MAX_REPLY_BYTES, paginate, parse_choice


def test_short_text_is_one_page():
    assert paginate("一\n二") == ["一\n二"]


def test_long_text_splits_at_line_breaks_within_the_limit():
    lines = [f"{n}. 户主和家庭成员居民身份证 原件和复印件各1份" for n in range(1, 80)]
    pages = paginate("\n".join(lines))
    assert len(pages) > 1
    assert all(len(page.encode()) <= MAX_REPLY_BYTES for page in pages)
    assert "\n".join(pages).split("\n") == lines  # nothing lost, nothing cut mid-line


def test_one_huge_line_is_cut_without_breaking_characters():
    pages = paginate("低" * 3000)
    assert "".join(pages) == "低" * 3000
    assert all(len(page.encode()) <= MAX_REPLY_BYTES for page in pages)


def test_numbered_choices_in_the_ways_people_type_them():
    assert [parse_choice(t) for t in ["1", "１", "2.", "第3个", "3、", "12", "一", "第二个"]] \
        == [1, 1, 2, 3, 3, 12, 1, 2]
    assert [parse_choice(t) for t in ["1a", "", "100", "一下"]] == [None, None, None, None]
