"""NLU stage: the question core of a long message.

「领导您好，我是某某村的，我家老房子去年雨水大漏了，今年想翻建，想问一下需要办什么手续，去哪里
办，谢谢」: the story says which matter, the question sentences say what is wanted, and the
greeting and thanks say neither. The text the NLU sees starts with the question sentences and
then has the whole story without the politeness formulas: a classifier reading all of it
weighs the question more than the story, and a cut at the limit loses story, not question.
A message that asks several things (「在哪办？要带啥？」) is labelled by its first ask
(nlu_data/INTENTS.md), so that ask is read once more, first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLAUSE_END = re.compile(r"[。！？!?；;，,\s~～…]+")
# Words that make a clause a question (in colloquial and formal Chinese alike).
_QUESTION_WORDS = (
    "吗", "么", "嘛", "呢", "啥", "什么", "怎么", "怎样", "咋", "哪", "多久", "多长", "几",
    "多少", "好多", "能不能", "能否", "可不可以", "可以不", "是不是", "是否", "有没有", "有没得",
    "要不要", "行不行", "如何", "需要", "请问", "想问", "问一下", "问下", "?", "？",
)
# A clause ending in 不/没 asks too: 「能领不」「批了没」「还有别的救助不」; not after 都,
# 也, 还 or a person: 「一点消息都没有」「身份证也没」「还没有」「我不」 tell.
_ASKING_END = re.compile(r"(?<![都也还又就并从我你他她])(不|没|没有)$")
# 几 in a story asks nothing: 「好几年了」「十几万」「前几天」.
_SOME = re.compile(r"好几|十几|几十|几百|几千|几万|这几|那几|前几|几[年天个]前")
# Words that announce a question without asking one: 「我想问一下」 is no question of its own.
_ANNOUNCING = re.compile(r"请问|想问|问一下|问下|需要")
# Clauses that are only greeting, thanks or sign-off.
_POLITENESS = re.compile(
    r"^(尊敬的)?(各位)?(领导|工作人员|同志|老师|师傅|小编|客服)?(们)?(您|你)?好[啊呀呢]?$"
    r"|^(打扰(一下|了|您了)?|麻烦(了|您了|你了)?|辛苦(了|您了)?|盼复|盼回复|望回复|此致|敬礼"
    r"|谢谢(您|你|了)?(啦)?|感谢|多谢)$"
)
MIN_STORY_CLAUSES = 2  # a message of one clause is all question
CORE_CHARS = 300  # what the NLU reads at most, cut after the questions are put first


@dataclass(frozen=True, slots=True)
class QuestionCore:
    text: str  # what the NLU reads: question clauses, then the message without formulas
    questions: tuple[str, ...]  # the question clauses, in order
    truncated: bool = False

    @property
    def asks(self) -> tuple[str, ...]:
        """The question clauses that ask something themselves: 「在哪办？要带啥？」 is two
        asks, 「我想问一下，低保要带啥」 one."""
        return _asks(self.questions)


def _is_question(clause: str) -> bool:
    clause = _SOME.sub("", clause)
    return any(word in clause for word in _QUESTION_WORDS) or bool(_ASKING_END.search(clause))


def _asks(questions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in questions if _is_question(_ANNOUNCING.sub("", c)))


def question_core(text: str) -> QuestionCore:
    clauses = [c for c in _CLAUSE_END.split(text) if c]
    kept = [c for c in clauses if not _POLITENESS.match(c)] or clauses
    questions = tuple(c for c in kept if _is_question(c))
    if len(kept) < MIN_STORY_CLAUSES or not questions or len(questions) == len(kept):
        core = " ".join(kept) if kept != clauses else text
    else:  # questions first: what is cut at the limit is the end of the story
        core = "，".join(questions) + "，" + "，".join(kept)
    asks = _asks(questions)
    if len(asks) > 1:  # several asks: the first one decides the intent, so it leads
        core = f"{asks[0]}，{core}"
    return QuestionCore(core[:CORE_CHARS], questions, truncated=len(core) > CORE_CHARS)
