"""NLU stage, offline: build Rasa's training input from nlu_data/ and the catalogue, and train.

The catalogue is the one place aliases live. From it this module writes, into a build
directory: the `matter` synonyms (alias → matter id; an alias two matters share maps to
none and is left to the resolver), the `matter` lookup table, jieba's user dictionary (so
entity spans align with tokens), and the intent examples plus copies whose matter mention is
swapped for other matters' aliases — so no intent learns that 低保 means "materials".
Training is skipped when a model with the same fingerprint already exists.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue.model import Catalogue

ANNOTATION = re.compile(r"\[([^\]]+)\]\(matter\)")
SWAPS_PER_EXAMPLE = 2
SWAP_SEED = 20261122
MODEL_PREFIX = "nlu-"


class TrainingDataError(Exception):
    """nlu_data/ disagrees with the catalogue (an annotated matter no alias covers)."""


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


def _read_examples(nlu_dir: Path) -> list[tuple[str, list[str]]]:
    intents: list[tuple[str, list[str]]] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.name == "config.yml":
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu", []):
            if "intent" in block:
                lines = [
                    line.strip()[2:].strip()
                    for line in str(block["examples"]).splitlines()
                    if line.strip().startswith("- ")
                ]
                intents.append((str(block["intent"]), lines))
    return intents


def _check_annotations(intents: list[tuple[str, list[str]]], index: dict[str, set[str]]) -> None:
    unknown = sorted({
        span for _, examples in intents for example in examples
        for span in ANNOTATION.findall(example) if span not in index
    })
    if unknown:
        raise TrainingDataError(
            "nlu_data 里标注的事项说法在 catalogue 里找不到,请加到对应事项的 aliases: "
            + "、".join(unknown)
        )


def _augment(intents: list[tuple[str, list[str]]], forms: list[str]) -> list[tuple[str, list[str]]]:
    rng = random.Random(SWAP_SEED)
    augmented = []
    for intent, examples in intents:
        extra = []
        for example in examples:
            if len(ANNOTATION.findall(example)) != 1:
                continue
            for _ in range(SWAPS_PER_EXAMPLE):
                replacement = rng.choice(forms)
                extra.append(ANNOTATION.sub(f"[{replacement}](matter)", example))
        unique = list(dict.fromkeys(examples + extra))
        augmented.append((intent, unique))
    return augmented


def _nlu_document(intents: list[tuple[str, list[str]]], catalogue: Catalogue,
                  index: dict[str, set[str]]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"intent": intent, "examples": "".join(f"- {e}\n" for e in examples)}
        for intent, examples in intents
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


def build_training_input(catalogue: Catalogue, nlu_dir: Path, build_dir: Path,
                         python: Path, config_file: Path | None = None) -> TrainingInput:
    """Write Rasa's input under build_dir; `config_file` replaces nlu_data/config.yml."""
    index = _surface_index(catalogue)
    intents = _read_examples(nlu_dir)
    _check_annotations(intents, index)
    forms = sorted(s for s in index if len(s) >= 2)
    document = _nlu_document(_augment(intents, forms), catalogue, index)

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
    for part in (userdict, data_text, json.dumps(config, sort_keys=True), _rasa_version(python)):
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
