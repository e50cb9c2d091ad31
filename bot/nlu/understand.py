"""NLU stage: one question in, what the villager wants and which matter out.

guard (no commands, no empty text) → question core (bot/nlu/core.py: questions first, greetings
out) → Rasa (intent, `matter` entity, the learnt matter ranking) → MatterResolver (aliases, fuzzy
and pinyin matching against the catalogue, with close candidates) → both weighed → NluResult.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.nlu.core import question_core
from bot.nlu.guard import Skip, guard
from bot.nlu.matters import EXACT, Candidate, MatterResolver
from integrations.rasa import RasaParse

MATTER_ENTITY = "matter"
NO_MATTER = "-"  # "about no matter", in the classifier's labels and the question files
TOP_CANDIDATES = 3
# Sighs, cries and laughter (voice input writes them out): a message of nothing else says
# nothing the classifiers could read; 嗯/哦 are left out, they answer yes.
SOUNDS = frozenset("啊呜哈呃额唉哎呀嘿噢喔哇嘻呵嘤哼")
RESOLVER_CHARS = 300  # aliases are looked for in the story too, up to here
# The matter classifier (learnt from whole messages) where no alias names the matter: its
# probability p becomes a score LEARNT_BASE + LEARNT_SPAN·p, below an exact alias (0.92), so a
# name in the text outweighs a guess from the words around it. Below LEARNT_MIN it is no
# candidate; below LEARNT_CHOOSE it is never chosen alone, only offered among numbered choices
# (a wrong answer costs a villager more than a question back). Where the resolver found the
# matter too, p adds up to LEARNT_AGREE to its score: two kinds of evidence agree.
LEARNT_BASE = 0.60
LEARNT_SPAN = 0.30
LEARNT_MIN = 0.15
LEARNT_CHOOSE = 0.55
LEARNT_AGREE = 0.05
MAX_ASKS = 3  # 「在哪办？要带啥？多久能下来？」: each ask read on its own, up to this many


@dataclass(frozen=True, slots=True)
class Ask:
    """One of several questions in a message, read on its own."""

    text: str
    intent: str | None
    confidence: float
    matter: str | None  # a matter this question names itself; None: the message's matter


class IntentParser(Protocol):
    async def parse(self, text: str) -> RasaParse: ...


@dataclass(frozen=True, slots=True)
class NluResult:
    text: str
    intent: str | None
    confidence: float
    matter: str | None
    matter_confidence: float
    candidates: tuple[Candidate, ...] = ()
    skipped: Skip | None = None
    truncated: bool = False
    intent_ranking: tuple[tuple[str, float], ...] = field(default=(), repr=False)
    asks: tuple[Ask, ...] = ()  # where the message asks several things, each of them

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "matter": self.matter,
            "matter_confidence": round(self.matter_confidence, 4),
            "candidates": [{"matter": c.matter, "score": c.score} for c in self.candidates],
        }
        if self.skipped:
            body["skipped"] = self.skipped.value
        if self.truncated:
            body["truncated"] = True
        if self.asks:
            body["asks"] = [{"text": a.text, "intent": a.intent, "matter": a.matter,
                             "confidence": round(a.confidence, 4)} for a in self.asks]
        return body


class Understanding:
    def __init__(self, parser: IntentParser, resolver: MatterResolver) -> None:
        self._parser = parser
        self._resolver = resolver

    async def understand(self, raw_text: str) -> NluResult:
        guarded = guard(raw_text)
        original = raw_text.strip()
        if guarded.skip:
            return NluResult(original, None, 0.0, None, 0.0, skipped=guarded.skip)
        if _only_sounds(guarded.text):  # 啊啊啊, 呜呜呜: no words to understand
            return NluResult(original, None, 0.0, None, 0.0)
        core = question_core(guarded.text)
        asks = core.asks[:MAX_ASKS] if len(core.asks) > 1 else ()
        parsed, *clauses = await asyncio.gather(
            self._parser.parse(core.text), *(self._parser.parse(ask) for ask in asks))
        candidates, named = self._merge(parsed, self._resolver.rank(guarded.text[:RESOLVER_CHARS]))
        chosen = self._resolver.choose(candidates)
        if chosen is not None and chosen.matter not in named \
                and dict(parsed.matters).get(chosen.matter, 0.0) < LEARNT_CHOOSE:
            chosen = None  # only a guess, and not a sure one: ask instead of answering
        return NluResult(
            text=original,
            intent=parsed.intent,
            confidence=parsed.confidence,
            matter=chosen.matter if chosen else None,
            matter_confidence=chosen.score if chosen else 0.0,
            candidates=tuple(candidates[:TOP_CANDIDATES]),
            truncated=guarded.truncated or core.truncated,
            intent_ranking=parsed.ranking,
            asks=tuple(Ask(text, clause.intent, clause.confidence, self._named(text))
                       for text, clause in zip(asks, clauses, strict=True)),
        )

    def _named(self, text: str) -> str | None:
        """The matter a question names by an alias, word for word."""
        chosen = self._resolver.choose(self._resolver.rank(text))
        return chosen.matter if chosen is not None and chosen.score >= EXACT else None

    def _merge(self, parsed: RasaParse,
               ranked: list[Candidate]) -> tuple[list[Candidate], set[str]]:
        """Add a matter Rasa's entity names and the resolver missed, then the classifier's.

        Returns the candidates, and the matters the text names (by alias or entity) as
        against those only guessed from the words around them.

        The resolver's own score wins where it found the matter: it knows which aliases are
        shared (合作医疗) or also materials (身份证), and the cue words that separate them.
        """
        scores = {c.matter: c.score for c in ranked}
        for entity in parsed.entities:
            if entity.entity != MATTER_ENTITY:
                continue
            named = self._resolver.matters_for_surface(entity.value) or {entity.value}
            named &= self._resolver.matter_ids
            if len(named) == 1 and not named & scores.keys():
                scores[named.pop()] = EXACT
        named_in_text = set(scores)
        for matter_id, p in parsed.matters:
            if matter_id == NO_MATTER or matter_id not in self._resolver.matter_ids:
                continue
            if matter_id in scores:
                scores[matter_id] = round(min(scores[matter_id] + LEARNT_AGREE * p, 1.0), 3)
            elif p >= LEARNT_MIN:
                scores[matter_id] = round(LEARNT_BASE + LEARNT_SPAN * p, 3)
        ordered = sorted(
            (Candidate(m, s) for m, s in scores.items()), key=lambda c: (-c.score, c.matter)
        )
        return ordered, named_in_text


def _only_sounds(text: str) -> bool:
    letters = [c for c in text if c.isalnum()]
    return bool(letters) and all(c in SOUNDS for c in letters)
