"""Issue #12 in conversation: a matter the seeds only name is answered honestly, a word that
may mean several matters is asked about, a question this center does not handle names no
matter — and on frozen question sets written apart from the training data
(tests/nlu/heldout_new_matters.tsv, tests/data/outside_questions.tsv), the first reply names
the right matter, or none."""

from datetime import UTC, datetime

import pytest

from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.dialogue.runtime import build_dialogue
from bot.messages import Channel, Incoming, Kind
from bot.nlu.evaluate import FirstReply, classify_first_reply, load_heldout, names_matter
from bot.nlu.runtime import open_understanding

ROOT_TESTS = ROOT / "tests"
# Measured on 2026-12-01: 46 of 59 and 1 of 30 when the sets were first run, 51 of 59 after
# aliases and intent examples written by helpers who never saw these sets. These guard
# against falling back; they are not targets (issue #12 wants every one).
NEW_MATTERS_NAMED_AT_LEAST = 54  # 56 with eleven voices and the calibrated weighing
OUTSIDE_NAMING_A_MATTER_AT_MOST = 1  # 0 since 被骗 is answered before any matter
# The frozen test set of issue #13 (never trained on, never printed): useful 89.7 %, wrong
# 4.2 %, outside naming a matter 12.3 % with six training voices; 95.3 %, 0.7 %, 5.4 % with
# eleven and the weighing calibrated on cross-validation (2026-12-01).
TEST_USEFUL_AT_LEAST = 0.93
TEST_WRONG_AT_MOST = 0.02
TEST_OUTSIDE_NAMED_AT_MOST = 0.08


@pytest.fixture
async def dialogue(remote_settings, real_redis):
    async with open_understanding(remote_settings) as understanding:
        yield build_dialogue(remote_settings, understanding, real_redis)


@pytest.fixture(scope="module")
def catalogue(remote_settings):
    return load_catalogue(remote_settings.catalogue_dir)


async def first_reply(dialogue, text, user):
    turn = await dialogue.handle(Incoming(Channel.WECHAT, user, Kind.TEXT, datetime.now(UTC),
                                          text=text))
    return "\n".join(reply.text for reply in turn.replies)


names = names_matter  # the reply names the matter: its answer (【…】) or a numbered choice


async def test_a_matter_the_seeds_only_name_gets_what_is_known_and_no_list(dialogue,
                                                                           catalogue):
    scholarship = catalogue.get("golden_autumn_scholarship")
    assert scholarship.to_confirm and not scholarship.materials
    answer = await first_reply(dialogue, "金秋助学要带啥", "o_honest")
    assert "【金秋助学】的材料清单，本中心还没有公布" in answer
    assert scholarship.department in answer and "0000-1234567" in answer and "人工" in answer
    assert "1. " not in answer.split("想接着问")[0]  # no list, not even a guessed one


async def test_a_word_that_may_mean_two_matters_is_asked_about(dialogue):
    question = await first_reply(dialogue, "护理补贴咋申请", "o_shared")
    assert "您问的是哪一个" in question
    assert "残疾人两项补贴" in question and "失能老人护理补贴" in question


async def test_a_question_not_handled_here_names_no_matter(dialogue, catalogue):
    answer = await first_reply(dialogue, "拆迁款什么时候发下来", "o_outside")
    assert "不在本中心办理" in answer and "人工" in answer
    assert "去哪问：县(区)房屋征收部门或乡镇政府。" in answer  # where, in words that read
    assert not any(names(answer, matter) for matter in catalogue)


async def test_a_villager_who_was_cheated_is_sent_to_the_police_whatever_the_story_names(
        dialogue, catalogue):
    question = "有人打电话说帮我办养老保险认证，我转了300块，是不是被骗了"
    answer = await first_reply(dialogue, question, "o_cheated")
    assert "不在本中心办理" in answer and "110" in answer and "人工" in answer
    assert not any(names(answer, matter) for matter in catalogue)


async def test_questions_about_the_new_matters_name_them_first(dialogue, catalogue):
    cases = [c for c in load_heldout(ROOT_TESTS / "nlu" / "heldout_new_matters.tsv")
             if c.matter]
    named = [names(await first_reply(dialogue, c.text, f"o_new{n}"), catalogue.get(c.matter))
             for n, c in enumerate(cases)]
    assert len(cases) == 59 and sum(named) >= NEW_MATTERS_NAMED_AT_LEAST, sum(named)


async def test_questions_outside_every_seed_name_no_matter(dialogue, catalogue):
    lines = (ROOT_TESTS / "data" / "outside_questions.tsv").read_text(encoding="utf-8")
    questions = [line.split("\t")[1] for line in lines.splitlines()
                 if line and not line.startswith("#")]
    replies = [await first_reply(dialogue, q, f"o_out{n}") for n, q in enumerate(questions)]
    naming = [q for q, r in zip(questions, replies, strict=True)
              if any(names(r, matter) for matter in catalogue)]
    assert len(questions) == 30 and len(naming) <= OUTSIDE_NAMING_A_MATTER_AT_MOST, naming


async def test_unconfirmed_extra_hours_are_told_with_a_caveat(dialogue):
    hours = await first_reply(dialogue, "你们几点上班", "o_hours")
    assert "上班时间" in hours and "周六和赶集日的时间以本中心公布为准" in hours


async def test_first_replies_on_the_frozen_test_set_do_not_fall_back(dialogue, catalogue):
    """Figures only: which questions fail is never printed (a test set read is a training set)."""
    cases = [case for name in ("heldout_fresh.tsv", "test_voices.tsv")
             for case in load_heldout(ROOT_TESTS / "nlu" / name)]
    kinds = [classify_first_reply(await first_reply(dialogue, c.text, f"o_test{n}"), c.matter,
                                  catalogue) for n, c in enumerate(cases)]
    useful = sum(k in (FirstReply.RIGHT, FirstReply.CHOICE) for k in kinds) / len(kinds)
    wrong = kinds.count(FirstReply.WRONG) / len(kinds)
    outside = [line.split("\t")[1] for name in ("outside_fresh.tsv", "outside_voices.tsv")
               for line in (ROOT_TESTS / "data" / name).read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")]
    named = [classify_first_reply(await first_reply(dialogue, q, f"o_testout{n}"), None,
                                  catalogue) is FirstReply.WRONG for n, q in enumerate(outside)]
    assert (len(cases), len(outside)) == (688, 130)
    assert useful >= TEST_USEFUL_AT_LEAST and wrong <= TEST_WRONG_AT_MOST, (useful, wrong)
    assert sum(named) / len(named) <= TEST_OUTSIDE_NAMED_AT_MOST, sum(named)
