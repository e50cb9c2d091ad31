"""NLU stage, offline: the weighing of the two matter signals, measured where it may be tuned.

`bot nlu crossval --save F` keeps the NLU service's answer for every cross-validated example
(each read by a model that did not train on it); `bot nlu calibrate F` replays the weighing of
bot/nlu/understand.py on them under other values and prints, for each, how often the first
reply would be right, a numbered choice with the right matter, or a wrong matter, and how
often a message about nothing handled here would be answered with a matter. The values are
chosen from these figures, never from a test set.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.nlu.core import question_core
from bot.nlu.evaluate import HeldoutCase
from bot.nlu.guard import guard
from bot.nlu.matters import Candidate, MatterResolver
from bot.nlu.understand import (
    TOP_CANDIDATES,
    IntentParser,
    Weighing,
    asks_of,
    resolver_text,
    weigh,
)
from integrations.rasa import RasaEntity, RasaParse

# The values measured: each combination of these (the others as in Weighing()).
GRID = {
    "least": (0.3, 0.5),
    "choose": (0.45, 0.55, 0.65, 0.75, 0.85),
    "agree": (0.05, 0.1, 0.15, 0.2, 0.3),
    "doubt": (math.inf, 0.7, 0.5, 0.35),
    "none_gate": (math.inf, 0.7, 0.5),
    "none_keeps": (0.92, 0.84, 0.78),
}


class RecordingParser:
    """The NLU service, remembering its answer for each text it was asked."""

    def __init__(self, inner: IntentParser) -> None:
        self._inner = inner
        self.answers: dict[str, RasaParse] = {}

    async def parse(self, text: str) -> RasaParse:
        parsed = await self._inner.parse(text)
        self.answers[text] = parsed
        return parsed


@dataclass(frozen=True, slots=True)
class Output:
    """One example and the service's answer for its question core."""

    case: HeldoutCase
    parsed: RasaParse
    asks: tuple[RasaParse, ...] = ()  # each ask of a message asking several, read alone


def outputs_of(cases: list[HeldoutCase], answers: dict[str, RasaParse]) -> list[Output]:
    """Those cases whose question core the service was asked (not 「啊啊啊」 or a command)."""
    outputs = []
    for case in cases:
        core = question_core(guard(case.text).text)
        if core.text in answers:
            outputs.append(Output(case, answers[core.text],
                                  tuple(answers[ask] for ask in asks_of(core))))
    return outputs


def save_outputs(path: Path, outputs: list[Output]) -> None:
    rows = [{"case": dataclasses.asdict(o.case), "parsed": dataclasses.asdict(o.parsed),
             "asks": [dataclasses.asdict(ask) for ask in o.asks]} for o in outputs]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def _parse_of(parsed: dict[str, Any]) -> RasaParse:
    return RasaParse(
        intent=parsed["intent"], confidence=parsed["confidence"],
        ranking=tuple((name, p) for name, p in parsed["ranking"]),
        entities=tuple(RasaEntity(**entity) for entity in parsed["entities"]),
        matters=tuple((name, p) for name, p in parsed["matters"]))


def load_outputs(path: Path) -> list[Output]:
    return [Output(HeldoutCase(**row["case"]), _parse_of(row["parsed"]),
                   tuple(_parse_of(ask) for ask in row.get("asks", ())))
            for row in json.loads(path.read_text(encoding="utf-8"))]


@dataclass
class Rates:
    about_matter: int = 0  # examples about a matter of the catalogue
    right: int = 0  # answered about it
    choice: int = 0  # asked, with it among the numbered choices
    wrong: int = 0  # answered about another
    outside: int = 0  # examples about nothing handled here
    outside_named: int = 0  # … answered about a matter, or offered one

    def rate(self, count: int, *, outside: bool = False) -> float:
        total = self.outside if outside else self.about_matter
        return count / total if total else 0.0


def replay(outputs: list[Output], resolver: MatterResolver, weighing: Weighing,
           ranked: list[list[Candidate]] | None = None) -> Rates:
    rates = Rates()
    for number, output in enumerate(outputs):
        found = ranked[number] if ranked else resolver.rank(resolver_text(output.case.text))
        chosen, candidates = weigh(output.parsed, found, resolver, weighing)
        offered = {c.matter for c in candidates[:TOP_CANDIDATES]}
        expected = output.case.matter
        if expected is None:
            rates.outside += 1
            rates.outside_named += bool(offered)
        else:
            rates.about_matter += 1
            rates.right += chosen is not None and chosen.matter == expected
            rates.wrong += chosen is not None and chosen.matter != expected
            rates.choice += chosen is None and expected in offered
    return rates


def calibrate(outputs: list[Output],
              resolver: MatterResolver) -> list[tuple[Weighing, Rates]]:
    """Every combination of GRID, best first by merit(): the rankings by the resolver are
    the same for all, so they are made once."""
    ranked = [resolver.rank(resolver_text(o.case.text)) for o in outputs]
    rows = []
    for values in itertools.product(*GRID.values()):
        weighing = Weighing(**dict(zip(GRID, values, strict=True)))
        rows.append((weighing, replay(outputs, resolver, weighing, ranked)))
    return sorted(rows, key=lambda row: -merit(row[1]))


def merit(rates: Rates) -> float:
    """Answers, half the numbered choices (a villager asked back loses one message and still
    gets the answer), less three times the wrong answers (one told the wrong materials list
    loses a trip), less the messages about nothing handled here that were offered a matter.
    Counting a choice as much as an answer, as this did before, chose to ask whenever asking
    cost no wrong answer: right first replies fell where nothing was gained."""
    answered = rates.rate(rates.right) + rates.rate(rates.choice) / 2
    return answered - 3 * rates.rate(rates.wrong) \
        - rates.rate(rates.outside_named, outside=True)


def format_table(rows: list[tuple[Weighing, Rates]], current: Weighing, top: int) -> str:
    """The best `top` rows, and the values in use wherever they rank."""
    lines = ["least choose agree doubt none keeps   答对    给选项   答错   无关题给了事项"]
    shown = rows[:top] + [row for row in rows[top:] if row[0] == current]
    for weighing, rates in shown:
        mark = "  ← 现用" if weighing == current else ""
        lines.append(
            f"{weighing.least:<5} {weighing.choose:<6} {weighing.agree:<5} "
            f"{weighing.doubt:<5} {weighing.none_gate:<4} {weighing.none_keeps:<5}"
            f"{rates.rate(rates.right):>6.1%} {rates.rate(rates.choice):>7.1%} "
            f"{rates.rate(rates.wrong):>6.1%} "
            f"{rates.rate(rates.outside_named, outside=True):>8.1%}{mark}")
    return "\n".join(lines)
