"""What never reaches the NLU, and what reaches it cut down."""

from bot.nlu.guard import MAX_NLU_CHARS, Skip, guard


def test_empty_and_whitespace_are_skipped():
    assert guard("").skip is Skip.EMPTY
    assert guard("  \n\t ").skip is Skip.EMPTY


def test_emoji_and_punctuation_only_are_skipped():
    assert guard("👍👍🙏").skip is Skip.NO_TEXT
    assert guard("???!!!。。。").skip is Skip.NO_TEXT


def test_rasa_intent_injection_is_plain_text():
    guarded = guard('/apply{"matter":"x"}')
    assert not guarded.text.startswith("/")
    assert guarded.skip is None
    assert guard("//greet").text == "greet"
    assert guard("/").skip is Skip.NO_TEXT


def test_long_text_is_cut_and_says_so():
    guarded = guard("低保" * 2500)
    assert guarded.truncated
    assert len(guarded.text) == MAX_NLU_CHARS


def test_line_breaks_and_full_width_are_normalised():
    assert guard("低保\n要带啥").text == "低保 要带啥"
    assert guard("ＡＢＣ低保").text == "ABC低保"
