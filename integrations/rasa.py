"""Client of the Rasa NLU service's HTTP API (`POST /model/parse`, `GET /status`).

Rasa runs in its own virtual environment (see bot/nlu/service.py); this module only speaks
HTTP to it and turns its JSON into plain records. It never logs message text.
Rasa HTTP API: https://rasa.com/docs/rasa/pages/http-api (3.x).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from integrations.errors import IntegrationError, ServiceUnavailable

PROVIDER = "rasa"


@dataclass(frozen=True, slots=True)
class RasaEntity:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RasaParse:
    intent: str | None
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    entities: tuple[RasaEntity, ...]
    # The matter classifier's ranking (nlu_service/matter_classifier.py): matter id or "-"
    # for none, with probabilities; empty when the pipeline has no such component.
    matters: tuple[tuple[str, float], ...] = ()


def _ranking(items: Any) -> tuple[tuple[str, float], ...]:
    return tuple((str(item["name"]), float(item["confidence"])) for item in items or ())


def parse_response(body: dict[str, Any]) -> RasaParse:
    intent = body.get("intent") or {}
    seen: set[tuple[str, str, int, int]] = set()
    entities = []
    # Two extractors may report the same span; keep one of each.
    for item in body.get("entities") or ():
        key = (str(item["entity"]), str(item["value"]), int(item["start"]), int(item["end"]))
        if key not in seen:
            seen.add(key)
            entities.append(RasaEntity(*key))
    return RasaParse(
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        ranking=_ranking(body.get("intent_ranking")),
        entities=tuple(entities),
        matters=_ranking(body.get("matter_ranking")),
    )


class RasaClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str,
                 timeout: float = 5.0) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def parse(self, text: str) -> RasaParse:
        body = await self._request("POST", "/model/parse", json={"text": text})
        return parse_response(body)

    async def status(self) -> dict[str, Any]:
        return await self._request("GET", "/status")

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self._base_url}{path}"
        try:
            async with self._session.request(
                method, url, params={"token": self._token}, timeout=self._timeout, **kwargs
            ) as response:
                if response.status >= 500 or response.status == 409:
                    raise ServiceUnavailable(PROVIDER, response.status, "NLU 服务暂不可用")
                if response.status != 200:
                    raise IntegrationError(PROVIDER, response.status, await response.text())
                data: dict[str, Any] = await response.json()
                return data
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            raise ServiceUnavailable(PROVIDER, "unreachable", type(exc).__name__) from exc
