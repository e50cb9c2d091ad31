"""NLU stage, offline: build Rasa's training input from nlu_data/ and the catalogue, and train.

The catalogue is the one place aliases live. From it this module writes, into a build
directory: the `matter` synonyms (alias → matter id; an alias two matters share maps to
none and is left to the resolver), the `matter` lookup table, jieba's user dictionary (so
entity spans align with tokens), and the intent examples plus copies whose matter mention is
swapped for other matters' aliases — so no intent learns that 低保 means "materials".
Each example whose question core (bot/nlu/core.py) differs from it is written twice: as
sent, and as the NLU reads a message at parse time.
Examples clerks taught from the console and admins approved (PostgreSQL, bot/review) are
passed in by 「发布更新」 and written beside nlu_data/'s into the build directory's nlu.yml,
labelled like nlu_data/voices/: nlu_data/ itself is never written. Training is skipped
when a model with the same fingerprint already exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.catalogue.model import Catalogue
from bot.intents import Intent
from bot.nlu.core import question_core
from bot.nlu.guard import guard
from bot.nlu.understand import NO_MATTER

ANNOTATION = re.compile(r"\[([^\]]+)\]\(matter\)")
LABELLED_DIR = "voices"  # nlu_data/voices/*.tsv: intent<TAB>matter id or -<TAB>message
INTENT_NAMES = frozenset(intent.value for intent in Intent)
# Intents whose unannotated examples are about no matter: they teach the matter classifier
# what "no matter" looks like. An unannotated 「咋办」 example may be about any matter.
MATTERLESS_INTENTS = frozenset({Intent.GREET, Intent.GOODBYE, Intent.THANKS, Intent.AFFIRM,
                                Intent.DENY, Intent.OUT_OF_SCOPE, Intent.ASK_OFFICE_HOURS,
                                Intent.HUMAN_HANDOFF})
SWAPS_PER_EXAMPLE = 2
SWAP_SEED = 20261122
MODEL_PREFIX = "nlu-"


class TrainingDataError(Exception):
    """nlu_data/ disagrees with the catalogue (an annotated matter no alias covers)."""


@dataclass(frozen=True, slots=True)
class Example:
    intent: str
    text: str  # matter mentions may be annotated [text](matter)
    matter: str | None  # a matter id, NO_MATTER, or None when unknown (not used for matters)


@dataclass(frozen=True, slots=True)
class TrainingInput:
    directory: Path
    config: Path
    data: Path
    fingerprint: str


def _surface_index(catalogue: Catalogue) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for matter in catalogue:
        for surface in matter.surface_forms():
            index.setdefault(surface, set()).add(matter.id)
    return index


def _read_examples(nlu_dir: Path, index: dict[str, set[str]]) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.name == "config.yml":
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu", []):
            if "intent" in block:
                intent = str(block["intent"])
                examples += [
                    Example(intent, text, _annotated_matter(intent, text, index))
                    for line in str(block["examples"]).splitlines()
                    if line.strip().startswith("- ") and (text := line.strip()[2:].strip())
                ]
    for path in sorted((nlu_dir / LABELLED_DIR).glob("*.tsv")):
        examples += _read_labelled(path, index)
    return examples


def _annotated_matter(intent: str, text: str, index: dict[str, set[str]]) -> str | None:
    spans = ANNOTATION.findall(text)
    if not spans:
        return NO_MATTER if intent in MATTERLESS_INTENTS else None
    owners = set().union(*(index.get(span, set()) for span in spans))
    return owners.pop() if len(owners) == 1 else None


def _read_labelled(path: Path, index: dict[str, set[str]]) -> list[Example]:
    matter_ids = set().union(*index.values())
    examples, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in INTENT_NAMES \
                or (parts[1] != NO_MATTER and parts[1] not in matter_ids) or not parts[2].strip():
            problems.append(f"{path.name}:{number}")
            continue
        examples.append(Example(parts[0], parts[2].strip(), parts[1]))
    if problems:
        raise TrainingDataError("应为 意图<TAB>事项编号或-<TAB>问题(意图和事项编号要存在): "
                                + "、".join(problems[:10]))
    return examples


def _check_annotations(examples: list[Example], index: dict[str, set[str]]) -> None:
    unknown = sorted({
        span for example in examples for span in ANNOTATION.findall(example.text)
        if span not in index
    })
    if unknown:
        raise TrainingDataError(
            "nlu_data 里标注的事项说法在 catalogue 里找不到,请加到对应事项的 aliases: "
            + "、".join(unknown)
        )


def _augment(examples: list[Example], forms: list[str],
             index: dict[str, set[str]]) -> list[Example]:
    """Each example with one matter mention, twice more with another matter's alias in it."""
    rng = random.Random(SWAP_SEED)
    swapped = []
    for example in examples:
        if len(ANNOTATION.findall(example.text)) != 1:
            continue
        for _ in range(SWAPS_PER_EXAMPLE):
            replacement = rng.choice(forms)
            owners = index[replacement]
            swapped.append(Example(
                example.intent, ANNOTATION.sub(f"[{replacement}](matter)", example.text),
                next(iter(owners)) if len(owners) == 1 else None))
    unique: dict[tuple[str, str], Example] = {}
    for example in examples + swapped:
        unique.setdefault((example.intent, example.text), example)
    return list(unique.values())


def _with_cores(examples: list[Example]) -> list[Example]:
    """The examples, and each one's question core where it reads differently (not only in
    its punctuation, which the guard normalises anyway) and no example of another intent is
    written the same (「好的，多谢」's core 「好的」 is an affirm). A model taught only the
    messages as sent misread the cores of long and many-question messages (dev questions in
    new voices: intent 93.5 %); taught only the cores, the matter model lost what the story
    says (matter 92.0 → 90.5 %); taught both, 95.3 % and 92.0 %."""
    intent_of = {example.text: example.intent for example in examples}
    unique: dict[tuple[str, str], Example] = {}
    for example in examples:
        unique.setdefault((example.intent, example.text), example)
        guarded = guard(example.text)
        core = question_core(guarded.text).text
        if guarded.skip or core == guarded.text:
            continue
        if intent_of.setdefault(core, example.intent) == example.intent:
            unique.setdefault((example.intent, core),
                              Example(example.intent, core, example.matter))
    return list(unique.values())


def _nlu_document(examples: list[Example], catalogue: Catalogue,
                  index: dict[str, set[str]]) -> dict[str, Any]:
    by_intent: dict[str, list[dict[str, Any]]] = {}
    for example in examples:
        item: dict[str, Any] = {"text": example.text}
        if example.matter is not None:  # read by nlu_service/matter_classifier.py
            item["metadata"] = {"matter": example.matter}
        by_intent.setdefault(example.intent, []).append(item)
    blocks: list[dict[str, Any]] = [
        {"intent": intent, "examples": items} for intent, items in by_intent.items()
    ]
    for matter in catalogue:
        own = [s for s in matter.surface_forms() if index[s] == {matter.id}]
        blocks.append({"synonym": matter.id, "examples": "".join(f"- {s}\n" for s in own)})
    blocks.append({"lookup": "matter", "examples": "".join(f"- {s}\n" for s in sorted(index))})
    return {"version": "3.1", "nlu": blocks}


LAUNCHER = Path(__file__).resolve().parents[2] / "nlu_service" / "launch.py"


def rasa_command(python: Path, *args: str) -> list[str]:
    """Rasa's CLI through the NLU service's launcher, in Rasa's own virtual environment."""
    return [str(python), str(LAUNCHER), *args]


def _rasa_version(python: Path) -> str:
    site = list(python.parent.parent.glob("lib/python3*/site-packages/rasa/version.py"))
    return site[0].read_text() if site else "unknown"


def training_examples(catalogue: Catalogue, nlu_dir: Path) -> list[Example]:
    """Every example of nlu_data/, checked against the catalogue."""
    index = _surface_index(catalogue)
    examples = _read_examples(nlu_dir, index)
    _check_annotations(examples, index)
    return examples


class Labelled(Protocol):
    """An example taught in the console (bot/review/service.py Taught)."""

    @property
    def intent(self) -> str: ...

    @property
    def matter_id(self) -> str | None: ...  # None: about no matter

    @property
    def text(self) -> str: ...


def taught_examples(taught: Sequence[Labelled], catalogue: Catalogue) -> list[Example]:
    """Approved examples as training examples; one whose intent or matter is no longer
    known is left out (a matter removed from the catalogue since)."""
    return [Example(t.intent, t.text.strip(), t.matter_id or NO_MATTER) for t in taught
            if t.intent in INTENT_NAMES and t.text.strip()
            and (t.matter_id is None or t.matter_id in catalogue)]


def build_training_input(catalogue: Catalogue, nlu_dir: Path, build_dir: Path,
                         python: Path, config_file: Path | None = None,
                         leave_out: frozenset[Example] = frozenset(),
                         taught: Sequence[Labelled] = ()) -> TrainingInput:
    """Write Rasa's input under build_dir; `config_file` replaces nlu_data/config.yml.

    `leave_out`: examples kept out of training (a cross-validation fold), swaps included.
    `taught`: approved examples from the console, added to nlu_data/'s.
    """
    index = _surface_index(catalogue)
    examples = [e for e in training_examples(catalogue, nlu_dir) if e not in leave_out]
    examples += taught_examples(taught, catalogue)
    forms = sorted(s for s in index if len(s) >= 2)
    document = _nlu_document(_with_cores(_augment(examples, forms, index)), catalogue, index)

    if build_dir.exists():
        shutil.rmtree(build_dir)
    (build_dir / "data").mkdir(parents=True)
    (build_dir / "jieba").mkdir()
    userdict = "".join(f"{s} 100000 n\n" for s in sorted(index) if " " not in s)
    (build_dir / "jieba" / "userdict.txt").write_text(userdict, encoding="utf-8")
    data_text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)
    (build_dir / "data" / "nlu.yml").write_text(data_text, encoding="utf-8")
    config_source = config_file or nlu_dir / "config.yml"
    config = yaml.safe_load(config_source.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "JiebaTokenizer":
            component["dictionary_path"] = str((build_dir / "jieba").resolve())
    config_text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    (build_dir / "config.yml").write_text(config_text, encoding="utf-8")

    digest = hashlib.sha256()
    components = "".join(path.read_text(encoding="utf-8")
                         for path in sorted(LAUNCHER.parent.glob("*.py")))
    for part in (userdict, data_text, json.dumps(config, sort_keys=True), _rasa_version(python),
                 components):
        digest.update(part.encode())
    return TrainingInput(build_dir, build_dir / "config.yml", build_dir / "data",
                         digest.hexdigest()[:16])


def model_path(models_dir: Path, fingerprint: str) -> Path:
    return models_dir / f"{MODEL_PREFIX}{fingerprint}.tar.gz"


def latest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def rasa_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
        "LOG_LEVEL_LIBRARIES": "ERROR",
    })
    return env


def train(training: TrainingInput, models_dir: Path, python: Path, *, force: bool = False,
          quiet: bool = False) -> Path:
    """Train with Rasa's CLI (progress shown unless quiet); return the model's path."""
    target = model_path(models_dir, training.fingerprint)
    if target.exists() and not force:
        print(f"NLU 模型已是最新,跳过训练: {target}", file=sys.stderr)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    command = rasa_command(
        python, "train", "nlu", "--config", str(training.config), "--nlu", str(training.data),
        "--out", str(models_dir), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    )
    print(f"训练 NLU 模型 → {target}", file=sys.stderr)
    if quiet:
        done = subprocess.run(command, env=rasa_environment(), cwd=training.directory,
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-4000:], file=sys.stderr)
            done.check_returncode()
    else:
        subprocess.run(command, check=True, env=rasa_environment(), cwd=training.directory)
    return target


Trainer = Callable[[TrainingInput], Path]  # 「发布更新」's training step (tests fake it)
