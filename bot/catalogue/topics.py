"""Domain services stage: the numbered topics a matter is picked from (catalogue/topics.yml)
— for villagers who cannot type a matter's name: 「办哪件事？」 offers the topics by number,
then the matters of the chosen topic a page at a time, so digits alone reach any matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.catalogue.model import Catalogue, Matter
from bot.catalogue.reading import CatalogueError, CatalogueProblem, read_yaml

TOPICS_FILE = "topics.yml"
MAX_TOPICS = 9  # one digit each
PAGE = 8  # matters a page; 9 is then 「下一页」
NAME_LENGTH = 12


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    matters: tuple[str, ...]  # shown first, in this order
    rest: bool = False  # also every matter no other topic lists


@dataclass(frozen=True, slots=True)
class Topics:
    topics: tuple[Topic, ...] = ()

    def matters_of(self, number: int, catalogue: Catalogue) -> list[Matter]:
        """The matters of topic `number` (from 1) in the catalogue as it is now: an admin's
        edit shows, a matter added since the file was read is in the `rest` topic."""
        topic = self.topics[number - 1]
        chosen = [m for matter_id in topic.matters if (m := catalogue.get(matter_id))]
        if topic.rest:
            listed = {matter_id for t in self.topics for matter_id in t.matters}
            chosen += [m for m in catalogue if m.id not in listed]
        return chosen


def load_topics(directory: Path, catalogue: Catalogue) -> Topics:
    """The topics of catalogue/topics.yml; none when the file is absent. CatalogueError lists
    every problem: unknown matters, a matter in no topic, too many topics."""
    if not (directory / TOPICS_FILE).exists():
        return Topics()
    data = read_yaml(directory / TOPICS_FILE, "事项分类")
    raw_topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(raw_topics, list) or not 1 <= len(raw_topics) <= MAX_TOPICS:
        raise CatalogueError([CatalogueProblem(TOPICS_FILE, "topics",
                                               f"应有 1 到 {MAX_TOPICS} 类（一位数字选）")])
    problems: list[CatalogueProblem] = []
    topics: list[Topic] = []
    for number, raw in enumerate(raw_topics, 1):
        where = f"topics[{number}]"
        raw = raw if isinstance(raw, dict) else {}
        name = str(raw.get("name", "")).strip()
        if not name or len(name) > NAME_LENGTH:
            problems.append(CatalogueProblem(TOPICS_FILE, f"{where}.name",
                                             f"必填，最多 {NAME_LENGTH} 个字"))
        matters = raw.get("matters") or []
        matters = [str(m) for m in matters] if isinstance(matters, list) else []
        for unknown in (m for m in matters if m not in catalogue):
            problems.append(CatalogueProblem(TOPICS_FILE, f"{where}.matters",
                                             f"没有这个事项：{unknown}"))
        topics.append(Topic(name, tuple(matters), raw.get("rest") is True))
    if sum(topic.rest for topic in topics) > 1:
        problems.append(CatalogueProblem(TOPICS_FILE, "rest", "只能有一类写 rest: true"))
    if not any(topic.rest for topic in topics):
        listed = {matter_id for topic in topics for matter_id in topic.matters}
        problems.extend(CatalogueProblem(TOPICS_FILE, matter.id, "不在任何一类里")
                        for matter in catalogue if matter.id not in listed)
    if problems:
        raise CatalogueError(problems)
    return Topics(tuple(topics))


NO_TOPICS = Topics()
