"""NLU stage: find which matter (事项) a question is about, even when Rasa's entity misses it.

Villagers write 底保, 残急证, 高零补贴 (homophones from typing or voice recognition), 「dibao」,
or a generic word two matters share (医保). The resolver scores every matter against the text:

    exact alias in the text ............................ 0.92  (0.84 if the alias is also
                                                                named as a material: 身份证)
    same pinyin (homophone, tones ignored) ............. 0.84
    same pinyin after dialect folding (zh/z, n/l, -ng) .. 0.78
    pinyin typed in Latin letters ...................... 0.78
    one syllable off, aliases of 4+ syllables ........... 0.70
    + 0.04 for each of the matter's cue words present (at most 0.08)

Where two matters match at the same place, the better or longer match wins (「娃儿落户」 is
birth registration, not 户口迁入). Close scores are all returned so the dialogue can ask back.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pypinyin import Style, lazy_pinyin

from bot.catalogue.model import Catalogue

EXACT = 0.92
EXACT_WEAK = 0.84
HOMOPHONE = 0.84
DIALECT = 0.78
LATIN = 0.78
ONE_OFF = 0.70
ONE_OFF_MIN_SYLLABLES = 4  # with 3, 唱首歌 passed for 长寿金
CUE_BONUS = 0.04
CUE_BONUS_MAX = 0.08

THRESHOLD = 0.68  # below this a matter is not a candidate
DECISIVE_MARGIN = 0.035  # the top candidate must lead by this much to be chosen alone
MAX_CANDIDATES = 5
FUZZY_TEXT_LIMIT = 120  # characters scanned by the pinyin passes; questions are short

_LATIN_RUN = re.compile(r"[a-z]{4,}")
_DIALECT_RULES = (("zh", "z"), ("ch", "c"), ("sh", "s"))


def fold_syllable(syllable: str) -> str:
    """Fold sounds that dialect speakers and voice recognition confuse."""
    for source, target in _DIALECT_RULES:
        if syllable.startswith(source):
            syllable = target + syllable[len(source):]
            break
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    if syllable.endswith("ng"):
        syllable = syllable[:-1]
    return syllable


def _each_character(chunk: str) -> Any:
    # pypinyin accepts a list here (its stubs say str): one item per character keeps the
    # syllables aligned with character positions.
    return list(chunk)


def syllables(text: str) -> list[str]:
    """One pinyin syllable per character (non-Chinese characters stand for themselves)."""
    return lazy_pinyin(text, style=Style.NORMAL, errors=_each_character)


@dataclass(frozen=True, slots=True)
class Candidate:
    matter: str
    score: float


@dataclass(frozen=True, slots=True)
class _Form:
    matter: str
    text: str
    weak: bool
    strict: tuple[str, ...]
    folded: tuple[str, ...]


class MatterResolver:
    """Ranks catalogue matters for a text; built once per catalogue, then read-only."""

    def __init__(self, catalogue: Catalogue) -> None:
        material_names = catalogue.material_names()
        self._forms: list[_Form] = []
        self._cues: dict[str, tuple[str, ...]] = {}
        self._latin: list[tuple[str, str]] = []
        self._by_surface: dict[str, set[str]] = defaultdict(set)
        for matter in catalogue:
            self._cues[matter.id] = matter.keywords
            for surface in matter.surface_forms():
                # A 3+ character alias that is also a material (身份证, 生育证) is how villagers
                # name what to bring as often as what they want done, and a word that may
                # mean several matters (catalogue/ambiguous.yml: 证明, 护理补贴): both count
                # for less than a word that names one matter.
                weak = surface in catalogue.ambiguous or (
                    len(surface) >= 3 and any(surface in name for name in material_names))
                strict = tuple(syllables(surface))
                folded = tuple(fold_syllable(s) for s in strict)
                self._forms.append(_Form(matter.id, surface, weak, strict, folded))
                self._by_surface[surface.lower()].add(matter.id)
                joined = "".join(strict)
                if len(strict) >= 2 and joined.isascii() and len(joined) >= 4:
                    self._latin.append((joined, matter.id))
        # Indexes that keep a question's cost independent of the catalogue's size. Exact
        # aliases by their first two characters (every alias has at least two). Sounds: a
        # short form by all its syllables; a form one syllable may be off (4+) by each half,
        # since with one syllable wrong the other half is still right (pigeonhole).
        self._by_prefix: dict[str, list[_Form]] = defaultdict(list)
        self._by_sound: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
        for index, form in enumerate(self._forms):
            self._by_prefix[form.text.lower()[:2]].append(form)
            for offset, part in _sound_keys(form.folded):
                self._by_sound[part].append((index, offset))
        self._sound_lengths = sorted({len(part) for part in self._by_sound})

    @property
    def matter_ids(self) -> frozenset[str]:
        return frozenset(self._cues)

    def matters_for_surface(self, surface: str) -> set[str]:
        """Matter ids one written form (an entity value from Rasa) belongs to."""
        return set(self._by_surface.get(surface.lower(), ()))

    def rank(self, text: str) -> list[Candidate]:
        text = unicodedata.normalize("NFKC", text).lower()
        matches = [
            *self._exact_matches(text),
            *self._syllable_matches(text[:FUZZY_TEXT_LIMIT]),
            *self._latin_matches(text),
        ]
        scores: dict[str, float] = {}
        for match in matches:
            if not any(_shadows(other, match) for other in matches):
                scores[match.matter] = max(scores.get(match.matter, 0.0), match.score)
        for matter_id in scores:
            hits = sum(1 for cue in self._cues[matter_id] if cue in text)
            scores[matter_id] += min(hits * CUE_BONUS, CUE_BONUS_MAX)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [
            Candidate(matter_id, round(min(score, 1.0), 3))
            for matter_id, score in ranked[:MAX_CANDIDATES]
            if score >= THRESHOLD
        ]

    @staticmethod
    def choose(candidates: list[Candidate]) -> Candidate | None:
        """The one matter the text is about, or None when it is absent or ambiguous."""
        if not candidates:
            return None
        if len(candidates) > 1 and candidates[0].score - candidates[1].score < DECISIVE_MARGIN:
            return None
        return candidates[0]

    def _exact_matches(self, text: str) -> list[_Match]:
        found = []
        for start in range(len(text) - 1):
            for form in self._by_prefix.get(text[start:start + 2], ()):
                needle = form.text.lower()
                if text.startswith(needle, start):
                    score = EXACT_WEAK if form.weak else EXACT
                    found.append(_Match(start, start + len(needle), form.matter, score))
        return found

    def _syllable_matches(self, text: str) -> list[_Match]:
        spoken = syllables(text)
        folded = tuple(fold_syllable(s) for s in spoken)
        placed: set[tuple[int, int]] = set()  # (form index, start in text)
        for position in range(len(folded)):
            for length in self._sound_lengths:
                if position + length > len(folded):
                    break
                heard = folded[position:position + length]
                for form_index, offset in self._by_sound.get(heard, ()):
                    placed.add((form_index, position - offset))
        found = []
        for form_index, start in placed:
            form = self._forms[form_index]
            end = start + len(form.folded)
            if start < 0 or end > len(folded):
                continue
            off = sum(1 for heard, said in zip(folded[start:end], form.folded, strict=True)
                      if heard != said)
            if off == 0:
                exact_sound = tuple(spoken[start:end]) == form.strict
                found.append(_Match(start, end, form.matter, HOMOPHONE if exact_sound else DIALECT))
            elif off == 1 and len(form.folded) >= ONE_OFF_MIN_SYLLABLES:
                found.append(_Match(start, end, form.matter, ONE_OFF))
        return found

    def _latin_matches(self, text: str) -> list[_Match]:
        found = []
        for run in _LATIN_RUN.finditer(text):
            for joined, matter_id in self._latin:
                offset = run.group().find(joined)
                if offset != -1:
                    start = run.start() + offset
                    found.append(_Match(start, start + len(joined), matter_id, LATIN))
        return found


def _sound_keys(folded: tuple[str, ...]) -> list[tuple[int, tuple[str, ...]]]:
    """The (offset, syllables) keys a form is found by in the sound index."""
    if len(folded) < ONE_OFF_MIN_SYLLABLES:
        return [(0, folded)]
    half = len(folded) // 2
    return [(0, folded[:half]), (half, folded[half:])]


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    end: int
    matter: str
    score: float


def _shadows(other: _Match, match: _Match) -> bool:
    """Another matter's better match at the same place wins.

    娃儿落户 (birth registration) over 落户; 低保 over a one-syllable-off 申请五保.
    """
    if other.matter == match.matter or other.end <= match.start or match.end <= other.start:
        return False
    if other.score > match.score:
        return True
    contains = other.start <= match.start and match.end <= other.end
    longer = other.end - other.start > match.end - match.start
    return other.score == match.score and contains and longer
