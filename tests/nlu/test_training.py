"""Rasa's training input is built from nlu_data/ and the catalogue, never edited twice."""

import shutil

import pytest
import yaml

from bot.catalogue.loader import load_catalogue
from bot.cli import ensure_model
from bot.config import ROOT, Settings
from bot.intents import Intent
from bot.nlu.training import TrainingDataError, build_training_input


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
    assert examples.count("(matter)") > 40  # originals plus swapped copies


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
