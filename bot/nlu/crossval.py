"""NLU stage, offline: k-fold cross-validation of the training data (`bot nlu crossval`).

The examples of nlu_data/ are dealt into k folds; for each, a model is trained on the others
and the fold's examples go through the live path (core → Rasa → resolver) as held-out
questions. It says how well the training data generalises within its own voices; the frozen
test sets (tests/nlu/heldout_fresh.tsv, tests/nlu/test_voices.tsv) say how well it does on
others'. Slow: k trainings.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import aiohttp

from bot.catalogue.loader import load_catalogue
from bot.config import Settings
from bot.nlu.calibrate import Output, RecordingParser, outputs_of
from bot.nlu.evaluate import HeldoutCase, Report, score
from bot.nlu.matters import MatterResolver
from bot.nlu.runtime import free_port
from bot.nlu.service import NluProcess
from bot.nlu.training import ANNOTATION, Example, build_training_input, train, training_examples
from bot.nlu.understand import NO_MATTER, Understanding
from integrations.rasa import RasaClient

FOLD_SEED = 20261201


def as_case(example: Example) -> HeldoutCase:
    """The example as a villager would send it; a matter only where it is known."""
    matter = None if example.matter in (None, NO_MATTER) else example.matter
    return HeldoutCase(example.intent, matter, ANNOTATION.sub(r"\1", example.text))


async def cross_validate(settings: Settings, folds: int) -> tuple[Report, list[Output]]:
    """The figures, and the service's answer to each example (for `bot nlu calibrate`)."""
    catalogue = load_catalogue(settings.catalogue_dir)
    resolver = MatterResolver(catalogue)
    examples = training_examples(catalogue, settings.nlu_data_dir)
    random.Random(FOLD_SEED).shuffle(examples)
    report, outputs = Report(), []
    with tempfile.TemporaryDirectory() as scratch:
        for fold in range(folds):
            held = examples[fold::folds]
            workdir = Path(scratch) / str(fold)
            training = build_training_input(catalogue, settings.nlu_data_dir, workdir / "build",
                                            settings.nlu_python, leave_out=frozenset(held))
            model = train(training, workdir / "models", settings.nlu_python, force=True,
                          quiet=True)
            process = NluProcess(settings.nlu_python, model, free_port(), settings.nlu_token,
                                 settings.nlu_log)
            await process.start()
            cases = [as_case(e) for e in held]
            try:
                async with aiohttp.ClientSession() as session:
                    parser = RecordingParser(RasaClient(session, process.url,
                                                        settings.nlu_token))
                    await score(Understanding(parser, resolver), catalogue, cases, report)
            finally:
                await process.stop()
            outputs += outputs_of(cases, parser.answers)
            print(f"第 {fold + 1}/{folds} 折: 累计意图 {report.intent_accuracy:.1%}, "
                  f"事项 {report.matter_accuracy:.1%}", flush=True)
    return report, outputs
