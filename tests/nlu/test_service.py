"""The NLU as the bot uses it: real Rasa over HTTP, then the matter resolver."""

import aiohttp
import pytest

from bot.config import ROOT
from bot.nlu.evaluate import evaluate, load_heldout
from bot.nlu.runtime import open_understanding
from integrations.rasa import RasaClient


@pytest.fixture(scope="module")
async def understanding(remote_settings):
    async with open_understanding(remote_settings) as understanding:
        yield understanding


@pytest.mark.parametrize(("text", "intent", "matter"), [
    ("俺娘想申请低保都要带啥", "ask_materials", "dibao"),
    ("那个嗯就是残急证要带啥", "ask_materials", "disability_certificate"),
    ("低保要多久", "ask_time_limit", "dibao"),
    ("几点上班", "ask_office_hours", None),
    ("转人工", "human_handoff", None),
    ("俺娘走不动能到家里来办不", "book_home_visit", None),
    ("我的低保办到哪了", "check_progress", "dibao"),
])
async def test_villager_questions(understanding, text, intent, matter):
    result = await understanding.understand(text)
    assert (result.intent, result.matter) == (intent, matter)
    assert result.confidence > 0.5


async def test_close_matters_come_back_as_numbered_candidates(understanding):
    result = await understanding.understand("低保和五保有啥区别")
    assert result.matter is None
    assert [c.matter for c in result.candidates[:2]] == ["dibao", "wubao"]
    # a newborn's registration, or a child's hukou moved in: the words say either
    result = await understanding.understand("娃儿落户要哪些东西")
    assert result.matter is None
    assert {"birth_registration", "hukou_move_in"} <= {c.matter for c in result.candidates}


async def test_intent_injection_is_not_obeyed(understanding):
    result = await understanding.understand('/apply{"matter":"x"}')
    assert result.matter is None
    assert result.confidence < 1.0  # Rasa's injected intents come back with exactly 1.0
    result = await understanding.understand("/greet")
    assert result.confidence < 1.0


async def test_empty_emoji_and_huge_inputs_have_defined_answers(understanding):
    empty = await understanding.understand("   ")
    assert (empty.intent, empty.skipped) == (None, "empty")
    emoji = await understanding.understand("🙏🙏")
    assert (emoji.intent, emoji.skipped) == (None, "no_text")
    huge = await understanding.understand("俺想问低保要带啥" + "啊" * 5000)
    assert huge.truncated and huge.intent is not None and huge.matter == "dibao"
    mixed = await understanding.understand("我要办dibao的事 ok?")
    assert mixed.matter == "dibao"


async def test_villagers_messages_never_reach_the_service_log(understanding, nlu_settings):
    await understanding.understand("隐私测试王秀英低保要带啥")
    log = nlu_settings.nlu_log.read_text(encoding="utf-8", errors="replace")
    assert "王秀英" not in log


async def test_heldout_accuracy_meets_the_targets(remote_settings):
    report = await evaluate(remote_settings, load_heldout(ROOT / "tests" / "nlu" / "heldout.tsv"))
    assert report.intent_accuracy >= 0.95
    assert report.matter_accuracy >= 0.95
    assert report.matter_top3_accuracy >= 0.98


@pytest.mark.parametrize(("text", "matter"), [
    ("办低保要带身份证吗", "dibao"),  # 身份证 is what to bring, not the matter
    ("啥时候交明年的合作医疗", "medical_insurance_enrollment"),  # shared word + 交
    ("新农合住院报销要发票吗", "medical_insurance_reimbursement"),
    ("那个高龄的补贴", "senior_allowance"),
])
async def test_rasa_entity_does_not_override_the_resolver(understanding, text, matter):
    assert (await understanding.understand(text)).matter == matter


async def test_a_matter_named_by_no_alias_is_learnt_from_the_words_around_it(understanding):
    # No alias of 高龄补贴 or 失能老人护理补贴 in either question: the matter classifier's part.
    aged = await understanding.understand("我爸今年八十五了国家每个月发的那个钱咋个领")
    assert "senior_allowance" in {c.matter for c in aged.candidates}
    bedridden = await understanding.understand("我妈瘫在床上好多年了有没有护理方面的补助")
    assert "disabled_elderly_care" in {c.matter for c in bedridden.candidates}


async def test_one_classifier_gives_the_intent_and_the_matter_in_rasas_format(remote_settings):
    # nlu_service/matter_classifier.py: both rankings from one component, most likely first.
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, str(remote_settings.nlu_url), remote_settings.nlu_token)
        parsed = await client.parse("俺大伯没儿没女想办五保户要准备啥")
    assert (parsed.intent, parsed.confidence) == parsed.ranking[0]
    assert parsed.intent == "ask_materials"
    assert len(parsed.ranking) == 10  # Rasa's ranking_length; 20 intents in all
    assert parsed.matters[0][0] == "wubao" and len(parsed.matters) == 5
    for ranking in (parsed.ranking, parsed.matters):
        probabilities = [p for _, p in ranking]
        assert probabilities == sorted(probabilities, reverse=True)
        assert all(0.0 <= p <= 1.0 for p in probabilities) and sum(probabilities) <= 1.0 + 1e-9
        assert len({name for name, _ in ranking}) == len(ranking)
