"""Understanding at the dialogue level (issue #13): every frozen test question goes through
`/wechat` as a new villager, and the first reply is classified (bot/nlu/evaluate.py):

    right ...... answered about the right matter
    choice ..... asked back, with the right matter among the numbered choices
    dont_know .. named no matter (asked what they mean, said it is not done here, 转人工)
    wrong ...... named a wrong matter: a confidently wrong first reply

Useful = right + choice. For questions about nothing the center handles, a reply that names a
matter is wrong. One bot worker with the real NLU service and Redis, as in bench/wechat.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from bench.wechat import bot_worker, push
from bot.catalogue.loader import load_catalogue
from bot.config import ROOT, Secret, Settings
from bot.nlu.evaluate import FirstReply, classify_first_reply, load_heldout

REDIS_URL = "redis://127.0.0.1:6379/11"
# (name, questions with their matter ids or None). The test sets were frozen before any
# tuning and are never trained on; the "seen" sets were looked at while the catalogue grew.
QuestionSet = tuple[str, list[tuple[str, str | None]]]


def outside(path: Path) -> list[tuple[str, str | None]]:
    return [(line.split("\t")[1], None) for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]


def question_sets() -> list[QuestionSet]:
    def about_matters(path: Path) -> list[tuple[str, str | None]]:
        return [(case.text, case.matter) for case in load_heldout(path) if case.matter]

    return [
        ("test: 86 matters", about_matters(ROOT / "tests/nlu/heldout_fresh.tsv")
         + about_matters(ROOT / "tests/nlu/test_voices.tsv")),
        ("test: not handled here", outside(ROOT / "tests/data/outside_fresh.tsv")
         + outside(ROOT / "tests/data/outside_voices.tsv")),
        ("seen: new matters", about_matters(ROOT / "tests/nlu/heldout_new_matters.tsv")),
        ("seen: not handled here", outside(ROOT / "tests/data/outside_questions.tsv")),
    ]


async def first_reply(session: aiohttp.ClientSession, url: str, user: str, msg_id: int,
                      text: str) -> str:
    query, body = push(user, msg_id, text)
    async with session.post(f"{url}/wechat", params=query, data=body) as response:
        answer = await response.text()
    if not answer.strip() or answer.strip() == "success":
        return ""
    return ET.fromstring(answer).findtext("Content") or ""


async def main() -> None:
    settings = dataclasses.replace(Settings.from_env({}), nlu_token=Secret("bench-nlu-token"))
    catalogue = load_catalogue(settings.catalogue_dir)
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    await redis.flushdb()
    ids = itertools.count(5_000_000)
    print(f"Understanding benchmark: first replies through /wechat, {os.cpu_count()} CPUs",
          flush=True)
    async with bot_worker(settings, REDIS_URL) as url, aiohttp.ClientSession() as session:
        for name, questions in question_sets():
            counts: Counter[FirstReply] = Counter()
            for text, matter in questions:
                number = next(ids)
                reply = await first_reply(session, url, f"o_u{number}", number, text)
                counts[classify_first_reply(reply, matter, catalogue)] += 1
            total = len(questions)
            rates = " | ".join(f"{kind.value} {counts[kind] / total:6.1%}" for kind in FirstReply)
            useful = (counts[FirstReply.RIGHT] + counts[FirstReply.CHOICE]) / total
            print(f"{name:<32} {total:4d} questions | {rates} | useful {useful:6.1%}",
                  flush=True)
    await redis.flushdb()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
