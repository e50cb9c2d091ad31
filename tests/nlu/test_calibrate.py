"""The weighing replayed on kept outputs, as `bot nlu calibrate` measures other values."""

from math import inf

import pytest

from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.nlu.calibrate import (
    Output,
    calibrate,
    format_table,
    load_outputs,
    merit,
    replay,
    save_outputs,
)
from bot.nlu.evaluate import HeldoutCase
from bot.nlu.matters import MatterResolver
from bot.nlu.understand import Weighing
from integrations.rasa import RasaEntity, RasaParse


def answer(*matters, entities=()):
    return RasaParse("ask_procedure", 0.9, (("ask_procedure", 0.9),), entities, matters)


OUTPUTS = [
    # a guess from the words around the matter, 60 % sure
    Output(HeldoutCase("ask_procedure", "senior_allowance", "我爸八十多了国家发的那个钱咋领"),
           answer(("senior_allowance", 0.6), ("-", 0.3))),
    # about nothing handled here, with a faint guess
    Output(HeldoutCase("out_of_scope", None, "今天天气咋样"),
           answer(("-", 0.8), ("dibao", 0.2))),
    # named outright, whatever the classifier thinks
    Output(HeldoutCase("ask_materials", "dibao", "低保要带啥"),
           answer(("wubao", 0.9), entities=(RasaEntity("matter", "低保", 0, 2),))),
]


@pytest.fixture(scope="module")
def resolver():
    return MatterResolver(load_catalogue(ROOT / "catalogue"))


def test_a_guess_is_answered_or_offered_by_how_sure_it_must_be(resolver):
    guess = OUTPUTS[:1]
    answered = replay(guess, resolver, Weighing(choose=0.55))
    assert (answered.right, answered.choice, answered.wrong) == (1, 0, 0)
    asked = replay(guess, resolver, Weighing(choose=0.7))
    assert (asked.right, asked.choice, asked.wrong) == (0, 1, 0)


def test_an_answer_is_worth_more_than_a_numbered_choice_and_a_wrong_one_costs_most(resolver):
    guess = OUTPUTS[:1]
    answered = merit(replay(guess, resolver, Weighing(choose=0.55)))
    asked = merit(replay(guess, resolver, Weighing(choose=0.7)))
    assert answered > asked > 0
    wrong = [Output(HeldoutCase("ask_procedure", "disabled_elderly_care", guess[0].case.text),
                    guess[0].parsed)]
    assert merit(replay(wrong, resolver, Weighing(choose=0.55))) < 0


def test_a_faint_guess_is_offered_for_nothing_handled_here_only_above_the_least(resolver):
    assert replay(OUTPUTS, resolver, Weighing(least=0.15, none_gate=inf)).outside_named == 1
    assert replay(OUTPUTS, resolver, Weighing(least=0.25, none_gate=inf)).outside_named == 0
    # nor when the classifier is sure enough that it is none of ours
    assert replay(OUTPUTS, resolver, Weighing(least=0.15, none_gate=0.7)).outside_named == 0


def test_a_named_matter_the_classifier_doubts_is_offered_not_answered(resolver):
    named = OUTPUTS[2:]  # 低保 named, the words around it say 五保 at 0.9
    assert replay(named, resolver, Weighing(doubt=inf)).right == 1
    doubted = replay(named, resolver, Weighing(doubt=0.35))
    assert (doubted.right, doubted.choice, doubted.wrong) == (0, 1, 0)


def test_outputs_survive_the_file_and_the_table_marks_the_values_in_use(resolver, tmp_path):
    path = tmp_path / "outputs.json"
    save_outputs(path, OUTPUTS)
    assert load_outputs(path) == OUTPUTS
    rows = calibrate(load_outputs(path), resolver)
    table = format_table(rows, Weighing(), top=1)
    assert len(table.splitlines()) == 3 and "← 现用" in table.splitlines()[-1]
