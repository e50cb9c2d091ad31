"""Domain services stage: questions this center does not handle (catalogue/outside.yml).

拆迁, 讨薪, 土地纠纷, 结婚登记 at the county…: no matter of the catalogue, so no answer may
name one. The bot says plainly that it is not done here, where to ask when that is known,
and offers a clerk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.catalogue.loader import CatalogueError, CatalogueProblem, read_yaml

OUTSIDE_FILE = "outside.yml"


@dataclass(frozen=True, slots=True)
class OutsideTopic:
    topic: str
    words: tuple[str, ...]
    where: str = ""


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
                or not all(isinstance(w, str) and w.strip() for w in words):
            problems.append(CatalogueProblem(str(file), f"[{index}]",
                                             "每项写 topic(文字)、words(说法列表)、where(可选)"))
            continue
        topics.append(OutsideTopic(item["topic"].strip(), tuple(w.strip() for w in words),
                                   str(item.get("where") or "").strip()))
    if problems:
        raise CatalogueError(problems)
    return tuple(topics)


def outside_topic(topics: tuple[OutsideTopic, ...], text: str) -> OutsideTopic | None:
    """The first topic one of whose words the text contains."""
    return next((t for t in topics if any(word in text for word in t.words)), None)
