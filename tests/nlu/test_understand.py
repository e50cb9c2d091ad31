"""How the alias resolver and the learnt matter classifier are weighed (Rasa's answer given as
its HTTP API would give it, so every case is exact)."""

from datetime import UTC, datetime

import pytest

from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.dialogue.runtime import build_dialogue
from bot.messages import Channel, Incoming, Kind
from bot.nlu.matters import MatterResolver
from bot.nlu.understand import Understanding
from integrations.rasa import parse_response


class RasaAnswers:
    """The NLU service's parse answer, with a chosen matter ranking."""

    def __init__(self, matters):
        self.matters = matters
        self.texts = []

    async def parse(self, text):
        self.texts.append(text)
        return parse_response({
            "intent": {"name": "ask_procedure", "confidence": 0.9},
            "matter_ranking": [{"name": m, "confidence": p} for m, p in self.matters],
        })


@pytest.fixture(scope="module")
def resolver():
    return MatterResolver(load_catalogue(ROOT / "catalogue"))


async def test_a_sure_guess_from_the_words_around_names_the_matter(resolver):
    understanding = Understanding(RasaAnswers([("senior_allowance", 0.9), ("-", 0.05)]), resolver)
    result = await understanding.understand("我爸八十多了国家发的那个钱咋领")
    assert result.matter == "senior_allowance"


async def test_an_unsure_guess_is_only_offered_as_a_choice(resolver):
    rasa = RasaAnswers([("senior_allowance", 0.6), ("disabled_elderly_care", 0.1), ("-", 0.1)])
    result = await Understanding(rasa, resolver).understand("我爸八十多了国家发的那个钱咋领")
    assert result.matter is None
    assert [c.matter for c in result.candidates] == ["senior_allowance"]  # the faint one not


async def test_the_words_around_a_shared_name_pick_its_owner_or_both_are_offered(resolver):
    # 上户口: a newborn's birth registration, or moving a hukou in
    owners = RasaAnswers([("birth_registration", 0.6), ("hukou_move_in", 0.3)])
    chosen = await Understanding(owners, resolver).understand("上户口要带啥")
    assert chosen.matter == "birth_registration"
    torn = RasaAnswers([("birth_registration", 0.45), ("hukou_move_in", 0.4)])
    asked = await Understanding(torn, resolver).understand("上户口要带啥")
    assert asked.matter is None
    assert {c.matter for c in asked.candidates[:2]} == {"birth_registration", "hukou_move_in"}


async def test_a_name_in_the_text_outweighs_a_guess_unless_the_words_around_it_disagree(
        resolver):
    rasa = RasaAnswers([("senior_allowance", 0.4), ("dibao", 0.3)])
    assert (await Understanding(rasa, resolver).understand("低保要带啥")).matter == "dibao"
    # 「港澳居民居住证」 names 居住证 and means another: both are offered
    rasa = RasaAnswers([("senior_allowance", 0.9), ("dibao", 0.05)])
    result = await Understanding(rasa, resolver).understand("低保要带啥")
    assert result.matter is None
    assert [c.matter for c in result.candidates] == ["dibao", "senior_allowance"]


async def test_none_of_ours_adds_no_candidate(resolver):
    rasa = RasaAnswers([("-", 0.9), ("senior_allowance", 0.05)])
    result = await Understanding(rasa, resolver).understand("今天天气咋样")
    assert result.matter is None and result.candidates == ()


async def test_sighs_and_laughter_are_not_read_and_long_stories_put_the_question_first(resolver):
    rasa = RasaAnswers([])
    understanding = Understanding(rasa, resolver)
    assert (await understanding.understand("啊啊啊啊")).intent is None
    await understanding.understand("您好，我在外地打工，我爸今年八十了，那个钱咋领，谢谢")
    assert rasa.texts == ["那个钱咋领，我在外地打工，我爸今年八十了，那个钱咋领"]


async def test_a_single_unsure_guess_is_asked_and_a_yes_answers_it(remote_settings, real_redis,
                                                                   resolver):
    rasa = RasaAnswers([("senior_allowance", 0.6), ("-", 0.2)])
    dialogue = build_dialogue(remote_settings, Understanding(rasa, resolver), real_redis)

    async def says(text):
        turn = await dialogue.handle(Incoming(Channel.WECHAT, "o_guess", Kind.TEXT,
                                              datetime.now(UTC), text=text))
        return "\n".join(reply.text for reply in turn.replies)

    asked = await says("我爸八十多了国家发的那个钱咋领")
    assert asked.startswith("您问的是这件事吗？\n1. ") and "高龄" in asked
    assert "换个说法" in asked and "【" not in asked  # asked, not answered
    answer = await says("是的")
    assert answer.startswith("【高龄")  # the pending question (咋领) answered for that matter
