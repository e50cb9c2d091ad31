"""Rasa's training input is built from nlu_data/ and the catalogue, never edited twice."""

import re
import shutil
import unicodedata

import pytest
import yaml

from bot.catalogue.loader import load_catalogue
from bot.cli import ensure_model
from bot.config import ROOT, Settings
from bot.intents import Intent
from bot.nlu.evaluate import QUESTION_SETS, load_heldout
from bot.nlu.training import TrainingDataError, build_training_input, training_examples


@pytest.fixture
def workspace(tmp_path):
    shutil.copytree(ROOT / "catalogue", tmp_path / "catalogue")
    shutil.copytree(ROOT / "nlu_data", tmp_path / "nlu_data")
    return tmp_path


def build(workspace):
    settings = Settings()
    return build_training_input(load_catalogue(workspace / "catalogue"), workspace / "nlu_data",
                                workspace / "build", settings.nlu_python)


def blocks(training, key):
    document = yaml.safe_load((training.data / "nlu.yml").read_text())
    return {b[key]: b["examples"] for b in document["nlu"] if key in b}


def test_the_intents_are_exactly_the_agreed_twenty(workspace):
    assert set(blocks(build(workspace), "intent")) == {i.value for i in Intent}
    assert len(Intent) == 20


def test_synonyms_and_lookup_come_from_the_catalogue(workspace):
    training = build(workspace)
    synonyms = blocks(training, "synonym")
    assert "- 低保\n" in synonyms["dibao"] and "- 底保\n" not in synonyms["dibao"]
    # A word two matters share maps to neither; the resolver offers both.
    assert "- 医保\n" not in synonyms["medical_insurance_enrollment"]
    assert "- 医保\n" in blocks(training, "lookup")["matter"]
    userdict = (training.directory / "jieba" / "userdict.txt").read_text()
    assert "残疾人两项补贴 " in userdict


def test_examples_are_augmented_across_matters(workspace):
    examples = blocks(build(workspace), "intent")["ask_fee"]
    assert sum("(matter)" in e["text"] for e in examples) > 40  # originals plus swapped copies


def matters_of(training):
    return {e["text"]: (e.get("metadata") or {}).get("matter")
            for examples in blocks(training, "intent").values() for e in examples}


def test_the_matter_classifier_learns_from_labels_annotations_and_swaps(workspace):
    (workspace / "nlu_data" / "voices" / "extra.tsv").write_text(
        "# a voice\nask_conditions\tsenior_allowance\t我爸八十多了国家发的那个钱能领不\n",
        encoding="utf-8")
    labelled = matters_of(build(workspace))
    assert labelled["我爸八十多了国家发的那个钱能领不"] == "senior_allowance"
    assert labelled["办[低保](matter)要准备什么材料"] == "dibao"  # its one alias says so
    assert labelled["你好"] == "-"  # a greeting is about no matter
    # A swapped copy is about the alias swapped in, not the original's matter.
    swapped = [text for text, matter in labelled.items()
               if text.endswith("](matter)要准备什么材料") and text.startswith("办[")
               and "低保" not in text]
    assert swapped and all(labelled[t] != "dibao" for t in swapped)


def test_a_story_is_taught_as_written_and_as_the_nlu_reads_it(workspace):
    (workspace / "nlu_data" / "voices" / "extra.tsv").write_text(
        "# a voice\n"
        "ask_procedure\tsenior_allowance\t领导您好，我爸今年八十了，高龄补贴咋领，谢谢\n",
        encoding="utf-8")
    labelled = matters_of(build(workspace))
    assert labelled["领导您好，我爸今年八十了，高龄补贴咋领，谢谢"] == "senior_allowance"
    assert labelled["高龄补贴咋领，我爸今年八十了，高龄补贴咋领"] == "senior_allowance"
    read = blocks(build(workspace), "intent")["ask_procedure"]
    assert {"text": "高龄补贴咋领，我爸今年八十了，高龄补贴咋领",
            "metadata": {"matter": "senior_allowance"}} in read


def test_a_core_is_not_taught_where_it_differs_only_in_punctuation_or_is_another_intent(
        workspace):
    (workspace / "nlu_data" / "voices" / "extra.tsv").write_text(
        "# a voice\nask_materials\tdibao\t低保要带啥？\nthanks\t-\t好的，多谢\n", encoding="utf-8")
    taught = blocks(build(workspace), "intent")
    texts = {e["text"] for examples in taught.values() for e in examples}
    assert "低保要带啥？" in texts and "低保要带啥?" not in texts
    assert "好的，多谢" in {e["text"] for e in taught["thanks"]}
    assert "好的" not in {e["text"] for e in taught["thanks"]}  # an affirm, as written


@pytest.mark.parametrize("line", [
    "ask_fee\tno_such_matter\t要钱吗",
    "ask_money\tdibao\t要钱吗",
    "ask_fee\tdibao",
])
def test_a_bad_labelled_line_is_refused_with_file_and_line(workspace, line):
    (workspace / "nlu_data" / "voices" / "bad.tsv").write_text(
        f"# header\nask_fee\tdibao\t低保要钱吗\n{line}\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad\.tsv:3"):
        build(workspace)


def test_a_fold_left_out_is_not_trained_on(workspace):
    catalogue = load_catalogue(workspace / "catalogue")
    examples = training_examples(catalogue, workspace / "nlu_data")
    held = frozenset(examples[:50])
    training = build_training_input(catalogue, workspace / "nlu_data", workspace / "fold",
                                    Settings().nlu_python, leave_out=held)
    trained = matters_of(training)
    assert not any(e.text in trained for e in held)
    assert build(workspace).fingerprint != training.fingerprint


def test_a_new_alias_changes_the_fingerprint(workspace):
    before = build(workspace).fingerprint
    assert build(workspace).fingerprint == before
    path = workspace / "catalogue" / "matters" / "dibao.yml"
    path.write_text(path.read_text().replace("aliases: [低保,", "aliases: [低保, 最低保,"))
    assert build(workspace).fingerprint != before


def test_an_annotation_no_alias_covers_is_refused(workspace):
    path = workspace / "nlu_data" / "nlu.yml"
    path.write_text(path.read_text().replace("[低保](matter)咋办", "[低保低保](matter)咋办", 1))
    with pytest.raises(TrainingDataError, match="低保低保"):
        build(workspace)


def test_training_is_skipped_when_nothing_changed(capsys):
    first = ensure_model(Settings())
    capsys.readouterr()
    assert ensure_model(Settings()) == first
    assert "跳过训练" in capsys.readouterr().err


def _plain(text):
    """A question as compared for sameness: annotations, punctuation and spaces aside."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", unicodedata.normalize("NFKC", text))
    return re.sub(r"[\W_]+", "", text)


def test_no_question_of_the_frozen_test_set_is_trained_on():
    """The test set measures questions the bot never saw: a training example written the
    same (by chance, by another helper) would make it measure memory."""
    trained = {_plain(example.text) for example in
               training_examples(load_catalogue(ROOT / "catalogue"), ROOT / "nlu_data")}
    tested = [case.text for path in QUESTION_SETS["test"] for case in load_heldout(path)]
    assert [text for text in tested if _plain(text) in trained] == []
