"""NLU stage: one question in, what the villager wants and which matter out.

guard (no commands, no empty text) → question core (bot/nlu/core.py: questions first, greetings
out) → Rasa (intent, `matter` entity, the learnt matter ranking) → MatterResolver (aliases, fuzzy
and pinyin matching against the catalogue, with close candidates) → both weighed → NluResult.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.catalogue.model import Catalogue
from bot.nlu.core import QuestionCore, question_core
from bot.nlu.guard import Skip, guard
from bot.nlu.matters import EXACT, LATIN, Candidate, MatterResolver
from integrations.rasa import RasaParse

MATTER_ENTITY = "matter"
NO_MATTER = "-"  # "about no matter", in the classifier's labels and the question files
TOP_CANDIDATES = 3
# Sighs, cries and laughter (voice input writes them out): a message of nothing else says
# nothing the classifiers could read; 嗯/哦 are left out, they answer yes.
SOUNDS = frozenset("啊呜哈呃额唉哎呀嘿噢喔哇嘻呵嘤哼")
RESOLVER_CHARS = 300  # aliases are looked for in the story too, up to here


@dataclass(frozen=True, slots=True)
class Weighing:
    """How the matter classifier (learnt from whole messages) is weighed against the alias
    resolver; `bot nlu calibrate` measures other values on cross-validated outputs.

    Where no alias names the matter, the classifier's probability p becomes a score
    base + span·p, below an exact alias (0.92), so a name in the text outweighs a guess from
    the words around it. Below `least` it is no candidate; below `choose` it is never chosen
    alone, only offered among numbered choices (a wrong answer costs a villager more than a
    question back). Where the resolver found the matter too, p adds up to `agree` to its
    score: two kinds of evidence agree, and where an alias is shared (上户口), they pick its
    owner. Where the classifier gives another matter at least
    `doubt`, and more than the named one, a matter named in the text is not answered alone
    either: 「港澳居民居住证」 names 居住证 and means another, so both are offered. Where it
    says "none of ours" with at least `none_gate`, only candidates scoring `none_keeps` or
    more stay: not a syllable off or a cue word.
    """

    # Chosen with `bot nlu calibrate` on 5-fold cross-validated outputs of the training data
    # (2026-12-02, 6,805 examples), counting a numbered choice half an answer: the first reply
    # right 88.6 %, a choice with the right matter 5.7 %, wrong 2.1 %, a matter offered for
    # 7.4 % of messages about none of ours (with the values before, 85.9 %, 8.5 %, 1.8 %,
    # 7.4 %: chosen when a choice counted as much as an answer). none_keeps keeps pinyin in
    # Latin letters (dibao), which the classifier cannot read (0.92 offers a matter to 1 point
    # fewer messages about none of ours and answers 1 point fewer right). Measured again
    # once training taught question cores too (6,805 examples): right 88.4 %, choice 6.1 %,
    # wrong 2.2 %, outside 7.2 %; the grid found nothing clearly better.
    base: float = 0.60
    span: float = 0.30
    least: float = 0.50
    choose: float = 0.65
    agree: float = 0.15
    doubt: float = 0.35  # math.inf: never
    none_gate: float = 0.50  # math.inf: never
    none_keeps: float = LATIN


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
    def __init__(self, parser: IntentParser, resolver: MatterResolver,
                 weighing: Weighing = Weighing()) -> None:
        self._parser = parser
        self._resolver = resolver
        self._weighing = weighing

    def use_catalogue(self, catalogue: Catalogue) -> None:
        """Aliases as an admin last edited them (the NLU model learns them at the next
        「发布更新」; the resolver matches them at once)."""
        self._resolver = MatterResolver(catalogue)

    async def understand(self, raw_text: str) -> NluResult:
        guarded = guard(raw_text)
        original = raw_text.strip()
        if guarded.skip:
            return NluResult(original, None, 0.0, None, 0.0, skipped=guarded.skip)
        if _only_sounds(guarded.text):  # 啊啊啊, 呜呜呜: no words to understand
            return NluResult(original, None, 0.0, None, 0.0)
        core = question_core(guarded.text)
        asks = asks_of(core)
        parsed, *clauses = await asyncio.gather(
            self._parser.parse(core.text), *(self._parser.parse(ask) for ask in asks))
        ranked = self._resolver.rank(resolver_text(guarded.text))
        chosen, candidates = weigh(parsed, ranked, self._resolver, self._weighing)
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


def asks_of(core: QuestionCore) -> tuple[str, ...]:
    """The asks read on their own: none where the message asks one thing."""
    return core.asks[:MAX_ASKS] if len(core.asks) > 1 else ()


def resolver_text(text: str) -> str:
    """What the alias resolver reads of a guarded message: the story too, up to a limit."""
    return text[:RESOLVER_CHARS]


def weigh(parsed: RasaParse, ranked: list[Candidate], resolver: MatterResolver,
          weighing: Weighing) -> tuple[Candidate | None, list[Candidate]]:
    """The matter to answer about (None: ask, or say so) and the candidates, best first."""
    candidates, named = _merge(parsed, ranked, resolver, weighing)
    learnt = dict(parsed.matters)
    if learnt.get(NO_MATTER, 0.0) >= weighing.none_gate:
        candidates = [c for c in candidates if c.score >= weighing.none_keeps]
    chosen = resolver.choose(candidates)
    if chosen is None:
        return None, candidates
    if chosen.matter not in named and learnt.get(chosen.matter, 0.0) < weighing.choose:
        return None, candidates  # only a guess, and not a sure one: ask instead of answering
    offered = {c.matter for c in candidates[:TOP_CANDIDATES]}
    sure_of_chosen = learnt.get(chosen.matter, 0.0)
    if any(p >= weighing.doubt and p > sure_of_chosen
           for m, p in parsed.matters if m != chosen.matter and m in offered):
        return None, candidates  # the words around it say another matter: ask
    return chosen, candidates


def _merge(parsed: RasaParse, ranked: list[Candidate], resolver: MatterResolver,
           weighing: Weighing) -> tuple[list[Candidate], set[str]]:
    """Add a matter Rasa's entity names and the resolver missed, then the classifier's.

    Returns the candidates, and the matters the text names (by alias or entity) as against
    those only guessed from the words around them.

    The resolver's own score wins where it found the matter: it knows which aliases are
    shared (合作医疗) or also materials (身份证), and the cue words that separate them.
    """
    scores = {c.matter: c.score for c in ranked}
    for entity in parsed.entities:
        if entity.entity != MATTER_ENTITY:
            continue
        named = resolver.matters_for_surface(entity.value) or {entity.value}
        named &= resolver.matter_ids
        if len(named) == 1 and not named & scores.keys():
            scores[named.pop()] = EXACT
    named_in_text = set(scores)
    for matter_id, p in parsed.matters:
        if matter_id == NO_MATTER or matter_id not in resolver.matter_ids:
            continue
        if matter_id in scores:
            scores[matter_id] = round(min(scores[matter_id] + weighing.agree * p, 1.0), 3)
        elif p >= weighing.least:
            scores[matter_id] = round(weighing.base + weighing.span * p, 3)
    ordered = sorted(
        (Candidate(m, s) for m, s in scores.items()), key=lambda c: (-c.score, c.matter)
    )
    return ordered, named_in_text


def _only_sounds(text: str) -> bool:
    letters = [c for c in text if c.isalnum()]
    return bool(letters) and all(c in SOUNDS for c in letters)
