"""NLU stage, offline: measure intent and matter recognition on a held-out file.

The file (tests/nlu/heldout.tsv) is never used for training: one question a line,
`intent<TAB>matter id or -<TAB>text`. Questions go through the same path as live traffic
(guard → Rasa → resolver), so the figures are what villagers get.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.catalogue.loader import load_catalogue
from bot.catalogue.model import Catalogue, Matter
from bot.config import ROOT, Settings
from bot.nlu.runtime import open_understanding
from bot.nlu.understand import NO_MATTER, Understanding

# Test: frozen before any tuning, written apart from the training data, never trained on; its
# questions are not shown. Dev: looked at while tuning (so no longer a measure of anything new).
_SETS = ROOT / "tests" / "nlu"
QUESTION_SETS = {
    "test": (_SETS / "heldout_fresh.tsv", _SETS / "test_voices.tsv"),
    "dev": (_SETS / "heldout.tsv", _SETS / "heldout_new_matters.tsv", _SETS / "dev_voices.tsv"),
}


@dataclass(frozen=True, slots=True)
class HeldoutCase:
    intent: str
    matter: str | None
    text: str


@dataclass
class IntentScore:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float:
        predicted = self.true_positive + self.false_positive
        return self.true_positive / predicted if predicted else 0.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 0.0


@dataclass
class GroupScore:
    """Matter recognition for one group of matters (公安, 民政…)."""

    total: int = 0
    correct: int = 0
    top3: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def top3_accuracy(self) -> float:
        return self.top3 / self.total if self.total else 0.0


@dataclass
class Report:
    total: int = 0
    intent_correct: int = 0
    matter_total: int = 0
    matter_correct: int = 0
    matter_top3: int = 0
    matter_wrong: int = 0  # a wrong matter chosen: the reply would answer about it
    per_intent: dict[str, IntentScore] = field(default_factory=dict)
    per_group: dict[str, GroupScore] = field(default_factory=dict)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (expected matter or "-", the wrong matter answered about)
    matter_confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[tuple[HeldoutCase, str | None, str | None]] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.total if self.total else 0.0

    @property
    def matter_accuracy(self) -> float:
        return self.matter_correct / self.matter_total if self.matter_total else 0.0

    @property
    def matter_top3_accuracy(self) -> float:
        return self.matter_top3 / self.matter_total if self.matter_total else 0.0

    @property
    def matter_wrong_rate(self) -> float:
        return self.matter_wrong / self.matter_total if self.matter_total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.total,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "matter_accuracy": round(self.matter_accuracy, 4),
            "matter_top3_accuracy": round(self.matter_top3_accuracy, 4),
            "matter_wrong_rate": round(self.matter_wrong_rate, 4),
            "questions_with_matter": self.matter_total,
            "per_intent": {
                name: {"precision": round(s.precision, 4), "recall": round(s.recall, 4)}
                for name, s in sorted(self.per_intent.items())
            },
            "per_group": {
                name: {"questions": g.total, "matter_accuracy": round(g.accuracy, 4),
                       "matter_top3_accuracy": round(g.top3_accuracy, 4)}
                for name, g in sorted(self.per_group.items())
            },
            "confused": [
                {"expected": a, "predicted": b, "count": n}
                for (a, b), n in self.confusions.most_common(10)
            ],
            "matters_confused": [
                {"expected": a, "answered": b, "count": n}
                for (a, b), n in self.matter_confusions.most_common(10)
            ],
        }


class FirstReply(StrEnum):
    """What a villager's first reply did with their question (issue #13, item 6)."""

    RIGHT = "right"  # answered about the right matter
    CHOICE = "choice"  # asked, with the right matter among the numbered choices
    DONT_KNOW = "dont_know"  # named no matter: asked back, said so, offered a clerk
    WRONG = "wrong"  # named a wrong matter and not the right one


def names_matter(reply: str, matter: Matter) -> bool:
    """The reply names the matter: its answer (【…】), or one of the numbered choices (the
    name alone on its line, or with its gloss: 「5. 医保、社保」 is a topic, not 医保)."""
    return f"【{matter.short_name}" in reply or re.search(
        rf"^[1-9]\. {re.escape(matter.short_name)}(\(|$)", reply, re.MULTILINE) is not None


def classify_first_reply(reply: str, expected: str | None, catalogue: Catalogue) -> FirstReply:
    """expected is the matter id the question is about, or None for none of the catalogue."""
    right = catalogue.matters[expected] if expected is not None else None
    if right is not None and f"【{right.short_name}" in reply:
        return FirstReply.RIGHT
    if right is not None and names_matter(reply, right):
        return FirstReply.CHOICE
    if any(names_matter(reply, matter) for matter in catalogue):
        return FirstReply.WRONG
    return FirstReply.DONT_KNOW


def load_heldout(path: Path) -> list[HeldoutCase]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{path}:{number}: 应为 意图<TAB>事项或-<TAB>问题")
        intent, matter, text = parts
        cases.append(HeldoutCase(intent, None if matter == NO_MATTER else matter, text))
    return cases


async def evaluate(settings: Settings, cases: list[HeldoutCase],
                   report: Report | None = None) -> Report:
    """Each case through the live path; added to `report` when given."""
    async with open_understanding(settings) as understanding:
        return await score(understanding, load_catalogue(settings.catalogue_dir), cases, report)


async def score(understanding: Understanding, catalogue: Catalogue, cases: list[HeldoutCase],
                report: Report | None = None) -> Report:
    """Each case through `understanding`; added to `report` when given (cross-validation)."""
    report = report if report is not None else Report()
    groups = {matter.id: matter.group for matter in catalogue}
    for case in cases:
        result = await understanding.understand(case.text)
        report.total += 1
        predicted = result.intent or "none"
        for name in {case.intent, predicted}:
            report.per_intent.setdefault(name, IntentScore())
        if predicted == case.intent:
            report.intent_correct += 1
            report.per_intent[case.intent].true_positive += 1
        else:
            report.per_intent[case.intent].false_negative += 1
            report.per_intent[predicted].false_positive += 1
            report.confusions[(case.intent, predicted)] += 1
        matter_ok = True
        if case.matter is not None:
            report.matter_total += 1
            matter_ok = result.matter == case.matter
            top3 = case.matter in {c.matter for c in result.candidates[:3]}
            report.matter_correct += matter_ok
            report.matter_wrong += result.matter is not None and not matter_ok
            report.matter_top3 += top3
            group = report.per_group.setdefault(groups.get(case.matter, "?"), GroupScore())
            group.total += 1
            group.correct += matter_ok
            group.top3 += top3
        if result.matter is not None and result.matter != case.matter:
            report.matter_confusions[(case.matter or NO_MATTER, result.matter)] += 1
        if predicted != case.intent or not matter_ok:
            report.errors.append((case, result.intent, result.matter))
    return report


def format_report(report: Report, *, show_errors: bool = False) -> str:
    """Figures only, unless show_errors: a test set's questions must not be read while tuning."""
    lines = [
        f"问题数 {report.total}",
        f"意图准确率 {report.intent_accuracy:.1%}",
        f"事项准确率 {report.matter_accuracy:.1%}(含事项的 {report.matter_total} 题)",
        f"事项前三命中率 {report.matter_top3_accuracy:.1%}",
        f"选错事项 {report.matter_wrong_rate:.1%}(会答成别的事项)",
        "",
        f"{'intent':<20} {'precision':>9} {'recall':>7}",
    ]
    for name, figures in sorted(report.per_intent.items()):
        lines.append(f"{name:<20} {figures.precision:>9.1%} {figures.recall:>7.1%}")
    lines += ["", f"{'类别':<8} {'题数':>4} {'事项准确率':>8} {'前三命中':>6}"]
    for name, group in sorted(report.per_group.items()):
        lines.append(f"{name:<8} {group.total:>5} {group.accuracy:>11.1%} "
                     f"{group.top3_accuracy:>9.1%}")
    if report.confusions:
        lines += ["", "最常混淆(期望 → 识别成):"]
        lines += [f"  {a} → {b}: {n}" for (a, b), n in report.confusions.most_common(8)]
    if report.matter_confusions:
        lines += ["", "答成别的事项(期望 → 答成):"]
        lines += [f"  {a} → {b}: {n}"
                  for (a, b), n in report.matter_confusions.most_common(8)]
    if show_errors and report.errors:
        lines += ["", "识别错的问题:"]
        lines += [
            f"  {case.text} | 期望 {case.intent}/{case.matter or '-'}"
            f" | 识别 {intent}/{matter or '-'}"
            for case, intent, matter in report.errors
        ]
    return "\n".join(lines)
