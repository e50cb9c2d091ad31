"""NLU stage: one question in, what the villager wants and which matter out.

guard (no commands, no empty text) → Rasa (intent + `matter` entity) → MatterResolver (fuzzy
and pinyin matching against the catalogue, with close candidates) → NluResult.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.nlu.guard import Skip, guard
from bot.nlu.matters import EXACT, Candidate, MatterResolver
from integrations.rasa import RasaParse

MATTER_ENTITY = "matter"
TOP_CANDIDATES = 3


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
        parsed = await self._parser.parse(guarded.text)
        candidates = self._merge(parsed, self._resolver.rank(guarded.text))
        chosen = self._resolver.choose(candidates)
        return NluResult(
            text=original,
            intent=parsed.intent,
            confidence=parsed.confidence,
            matter=chosen.matter if chosen else None,
            matter_confidence=chosen.score if chosen else 0.0,
            candidates=tuple(candidates[:TOP_CANDIDATES]),
            truncated=guarded.truncated,
            intent_ranking=parsed.ranking,
        )

    def _merge(self, parsed: RasaParse, ranked: list[Candidate]) -> list[Candidate]:
        """Add a matter Rasa's entity names and the resolver missed.

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
        return sorted(
            (Candidate(m, s) for m, s in scores.items()), key=lambda c: (-c.score, c.matter)
        )
