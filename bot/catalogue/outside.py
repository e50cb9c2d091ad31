"""Domain services stage: questions this center does not handle (catalogue/outside.yml).

拆迁, 讨薪, 土地纠纷, 结婚登记 at the county…: no matter of the catalogue, so no answer may
name one. The bot says plainly that it is not done here, where to ask when that is known,
and offers a clerk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.catalogue.reading import CatalogueError, CatalogueProblem, read_yaml

OUTSIDE_FILE = "outside.yml"
OUTSIDE_ITEM_FORM = ("每项写 topic(文字)、words(说法列表)、where(可选)、"
                     "before_matters(可选,true/false)")


@dataclass(frozen=True, slots=True)
class OutsideTopic:
    topic: str
    words: tuple[str, ...]
    where: str = ""
    # 「找工作被骗了」 is for the police whichever matter it mentions: such a topic is
    # answered even when the question names a matter outright.
    before_matters: bool = False


def load_outside(directory: Path) -> tuple[OutsideTopic, ...]:
    file = directory / OUTSIDE_FILE
    if not file.exists():
        return ()
    data = read_yaml(file, "")
    if not isinstance(data, list):
        raise CatalogueError([CatalogueProblem(str(file), "", "应为列表:- topic / words / where")])
    topics, problems = [], []
    for index, item in enumerate(data, start=1):
        words = item.get("words") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("topic"), str) \
                or not isinstance(words, list) or not words \
                or not all(isinstance(w, str) and w.strip() for w in words) \
                or not isinstance(item.get("before_matters", False), bool):
            problems.append(CatalogueProblem(str(file), f"[{index}]", OUTSIDE_ITEM_FORM))
            continue
        topics.append(OutsideTopic(item["topic"].strip(), tuple(w.strip() for w in words),
                                   str(item.get("where") or "").strip(),
                                   item.get("before_matters", False)))
    if problems:
        raise CatalogueError(problems)
    return tuple(topics)


def outside_topic(topics: tuple[OutsideTopic, ...], text: str) -> OutsideTopic | None:
    """The first topic one of whose words the text contains."""
    return next((t for t in topics if any(word in text for word in t.words)), None)
