"""The question core of a long message: greetings out, question sentences first."""

from bot.nlu.core import CORE_CHARS, question_core


def test_a_story_with_questions_puts_the_questions_first_and_drops_the_formulas():
    core = question_core("领导您好，我是某某村的，我家老房子去年雨水大漏了，今年想翻建，"
                         "想问一下需要办什么手续，去哪里办，谢谢")
    assert core.questions == ("想问一下需要办什么手续", "去哪里办")
    # The first ask leads (it decides the intent), then the questions, then the story.
    assert core.text.startswith("想问一下需要办什么手续，想问一下需要办什么手续，"
                                "去哪里办，我是某某村的")
    assert "领导您好" not in core.text and "谢谢" not in core.text
    assert "翻建" in core.text  # the story still says which matter


def test_a_short_question_reads_as_written():
    assert question_core("低保要带啥").text == "低保要带啥"
    assert question_core("你好").text == "你好"  # a greeting alone stays a greeting
    assert question_core("谢谢").text == "谢谢"


def test_a_long_message_is_cut_after_the_questions_are_put_first():
    story = "，".join(["我家里情况比较困难"] * 60)
    core = question_core(f"您好，{story}，低保在哪里申请")
    assert core.truncated and len(core.text) == CORE_CHARS
    assert core.text.startswith("低保在哪里申请")


def test_voice_input_without_punctuation_is_split_on_spaces():
    core = question_core("您好 我在外地打工 我爸今年八十了 那个高龄补贴咋领")
    assert core.questions == ("那个高龄补贴咋领",)
    assert core.text.startswith("那个高龄补贴咋领，我在外地打工")


def test_each_clause_that_asks_something_is_an_ask_and_an_announcement_is_not():
    assert question_core("低保在哪办？要带啥？多久能下来？").asks == (
        "低保在哪办", "要带啥", "多久能下来")
    assert question_core("我想问一下，低保要带啥").asks == ("低保要带啥",)
    assert question_core("请问，需要带户口本吗").asks == ("需要带户口本吗",)


def test_a_message_asking_several_things_is_read_by_its_first_ask_first():
    # The rule book labels such a message by its first ask: the classifier reads it twice.
    core = question_core("低保在哪办？要带啥？多久能下来？")
    assert core.text.startswith("低保在哪办，低保在哪办")
    # 「好几年」 tells, it does not ask; 「…不」 at a clause's end asks.
    story = question_core("我妈瘫在床上好几年了，护理补贴咋申请，一个月能发多少")
    assert story.text.startswith("护理补贴咋申请，护理补贴咋申请，一个月能发多少，我妈瘫在床上")
    assert question_core("我家十几亩地，种粮补贴能领不").asks == ("种粮补贴能领不",)
    assert question_core("我爸八十了，高龄补贴咋领").text.startswith("高龄补贴咋领，我爸")


def test_a_clause_telling_what_is_missing_is_no_ask():
    core = question_core("钱也没有，房也没有，低保在哪办，要带啥")
    assert core.asks == ("低保在哪办", "要带啥")
    assert core.text.startswith("低保在哪办，低保在哪办，要带啥，钱也没有")
    assert question_core("建房申请交上去两个多月了，一点消息都没有，帮我查下到哪一步了").asks == (
        "帮我查下到哪一步了",)
    assert question_core("我不，我要找人工").asks == ()
    assert question_core("低保批了没有").asks == ("低保批了没有",)
