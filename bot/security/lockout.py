"""Domain services stage: one lockout policy for every guessable secret.

A secret that can be found by trying — a clerk's console password, the phone digits that
open another villager's receipt number in the chat — is tried a few times at most. Each try
is counted in Redis *before* the secret is checked (so a burst of parallel tries cannot
slip past the limit), against every subject of the policy: who is trying (a villager's
account, a source address) and what is tried (a login, a receipt number). A subject past
its limit within its window is refused until the window ends; the wrong try that locks it
is written to the audit log.

Only a right answer to the *same* secret clears its count (`Attempt.right(forget=…)`);
a right answer to another — the villager's own receipt, another clerk's password — only
un-counts that one try. Else alternating a known answer with guesses would guess for ever.

A policy's pair kinds (`Policy.pairs`) take two values (`pair(name, address)`), each hashed
on its own, so an operator's reset can clear every pair of one name (`forget_every`).

Key scheme:   bm:lockout:{secret}:{kind}:{sha256(part)}[:{sha256(part)}]   tries (int),
              TTL = the window
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.storage import keys


@dataclass(frozen=True, slots=True)
class Limit:
    tries: int  # wrong tries allowed within the window; the next one is refused
    seconds: int  # the window: how long a wrong try is remembered and a lock lasts


@dataclass(frozen=True, slots=True)
class Policy:
    secret: str  # what is guessed: "login", "receipt" (audit action "{secret}.locked")
    limits: Mapping[str, Limit]  # per kind of subject: "user", "ip", "receipt"
    pairs: frozenset[str] = frozenset()  # kinds whose value is a `pair`


# Five wrong passwords lock a name from one address only: anyone can type a clerk's name, so
# a name-wide lock at five would let any one villager lock the admin out. The name-wide
# limit stops guessing spread over addresses (locking a name for everyone takes six
# addresses); the address limit, one address trying many names.
LOGIN = Policy("login", {"user_ip": Limit(5, 15 * 60), "user": Limit(30, 15 * 60),
                         "ip": Limit(20, 15 * 60)}, pairs=frozenset({"user_ip"}))
# A villager mistyping their phone gets an hour's pause; one receipt number, guessed at
# from many accounts, takes five wrong tries a day.
RECEIPT = Policy("receipt", {"user": Limit(3, 3600), "receipt": Limit(5, 24 * 3600)})
# An agent's binding code (8 digits, 3 days): five wrong tries an hour an account, and a
# hundred an hour for everyone together, so that many accounts cannot share the guessing.
AGENT_CODE = Policy("agent_code", {"user": Limit(5, 3600), "everyone": Limit(100, 3600)})


PAIR = "\x1f"  # between a pair's two values; the second (an address) never holds it


def pair(first: str, second: str) -> str:
    return f"{first}{PAIR}{second}"


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Locked(Exception):
    """Too many wrong tries: the next may come after `seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"locked for {seconds} s")
        self.seconds = seconds


def wait_words(seconds: int) -> str:
    """「15分钟」「2小时」: how long to wait, said to a person."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes}分钟" if minutes < 60 else f"{math.ceil(minutes / 60)}小时"


class Audit(Protocol):
    async def __call__(self, actor: str, action: str, target: str,
                       before: dict[str, Any] | None = None,
                       after: dict[str, Any] | None = None) -> None: ...


class Lockout:
    def __init__(self, redis: Redis, policy: Policy, audit: Audit) -> None:
        self._redis = redis
        self.policy = policy
        self._audit = audit

    def keys(self, subjects: Mapping[str, str]) -> dict[str, str]:
        return {kind: keys.lockout(self.policy.secret, kind) + (
                    ":".join(map(_hashed, value.rsplit(PAIR, 1))) if kind in self.policy.pairs
                    else _hashed(value))
                for kind, value in subjects.items()}

    async def wait(self, **subjects: str) -> int:
        """Seconds until each subject may try again (0: none is locked); counts nothing."""
        keys = self.keys(subjects)
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys.values():
                pipe.get(key)
                pipe.ttl(key)
            found = await pipe.execute()
        return max((max(ttl, 1) for kind, count, ttl in zip(keys, found[0::2], found[1::2],
                                                           strict=True)
                    if int(count or 0) >= self.policy.limits[kind].tries), default=0)

    async def attempt(self, **subjects: str) -> Attempt:
        """Count one try against each subject, to be answered `right` or `wrong`. Raises
        Locked (the try not counted) when a subject has no try left."""
        keys = self.keys(subjects)
        async with self._redis.pipeline(transaction=True) as pipe:
            for kind, key in keys.items():
                pipe.incr(key)
                pipe.expire(key, self.policy.limits[kind].seconds, nx=True)
            counts = dict(zip(keys, (await pipe.execute())[0::2], strict=True))
        over = [kind for kind, n in counts.items() if n > self.policy.limits[kind].tries]
        if over:
            await self.uncount(keys.values())
            raise Locked(await self.wait(**{kind: subjects[kind] for kind in over}) or 1)
        return Attempt(self, dict(subjects), counts)

    async def uncount(self, keys: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.decr(key)
                pipe.expire(key, max(limit.seconds for limit in self.policy.limits.values()),
                            nx=True)  # a key that expired meanwhile must not live for ever
            await pipe.execute()

    async def forget(self, **subjects: str) -> None:
        """An operator's reset (a new password): the subjects' wrong tries are cleared."""
        if subjects:
            await self._redis.delete(*self.keys(subjects).values())

    async def forget_every(self, kind: str, first: str) -> None:
        """Clear every pair subject of `kind` whose first part is `first` (a name's wrong
        tries from every address)."""
        pattern = f"{keys.lockout(self.policy.secret, kind)}{_hashed(first)}:*"
        async for key in self._redis.scan_iter(match=pattern, count=500):
            await self._redis.delete(key)

    async def lock(self, kind: str, value: str, actor: str) -> int:
        """The subject's last try was used up: refused for its whole window, audited."""
        limit = self.policy.limits[kind]
        await self._redis.expire(self.keys({kind: value})[kind], limit.seconds)
        await self._audit(actor, f"{self.policy.secret}.locked",
                          f"{kind}:{value.replace(PAIR, '@')}", None,
                          {"tries": limit.tries, "seconds": limit.seconds})
        return limit.seconds


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted try at the secret, waiting for the answer."""

    lockout: Lockout
    subjects: dict[str, str]
    counts: dict[str, int]

    async def right(self, *, forget: Collection[str] = ()) -> None:
        """This try does not count; the kinds in `forget` (the same secret, now answered,
        e.g. the login's own name) have their wrong tries cleared."""
        await self.lockout.forget(**{k: v for k, v in self.subjects.items() if k in forget})
        await self.lockout.uncount(key for kind, key in self.lockout.keys(self.subjects).items()
                                   if kind not in forget)

    async def wrong(self, actor: str) -> None:
        """Raises Locked when this try was a subject's last (the lock is audited)."""
        limits = self.lockout.policy.limits
        locked = [await self.lockout.lock(kind, self.subjects[kind], actor)
                  for kind, n in self.counts.items() if n == limits[kind].tries]
        if locked:
            raise Locked(max(locked))
