"""Domain services stage: console accounts, sessions and the audit log.

Passwords are stored as scrypt hashes (salted, N=2^14), computed in worker threads, at most
HASHING_AT_ONCE at a time: a flood of logins must not stall the event loop that answers
WeChat. Wrong passwords are limited per login name and per source address
(bot/security/lockout.py); each wrong one and each lock is in the audit log.

A session is a random id in an HttpOnly cookie; the session itself (clerk, CSRF token, when
it began, the clerk's session generation) lives in Redis and ends after SESSION_IDLE
without use or SESSION_MAX after signing in. Every request checks that the clerk is still
active and their generation unchanged: a new password or disabling the clerk bumps it,
which ends all their open sessions at once, on every worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.security.audit import AuditLog
from bot.security.lockout import LOGIN, Lockout, pair
from bot.storage import keys
from bot.storage.db import insert_new
from bot.storage.tables import AuditEntry, Clerk

ROLES = ("clerk", "supervisor", "director", "admin")
SESSION_IDLE = 30 * 60  # seconds without a request
SESSION_MAX = 12 * 3600  # seconds after signing in, however busy
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
# scrypt threads (16 MB each), half the cores: the rest answer WeChat (bench/logins.py: on
# two cores, two threads put /wechat p99 at 420 ms during a flood, one at 20 ms)
HASHING_AT_ONCE = max(1, (os.cpu_count() or 1) // 2)
# An unknown login name is checked against this, so that it costs the same scrypt work as
# a known one and the answer's timing does not tell which names exist.
NOBODY = f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${'00' * 16}${'00' * 32}"

T = TypeVar("T")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        computed = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32,
                                  n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


ANSWERING = ("clerk", "supervisor", "admin")  # the roles that answer villagers


class AccountError(ValueError):
    """A change to a clerk account refused; the reason is in words for the operator."""


class ClerkExists(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"账号 {username} 已经存在")


class NoSuchClerk(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"没有账号 {username}")


@dataclass(frozen=True, slots=True)
class Who:
    """The signed-in clerk, as the console needs them on each request."""

    username: str
    name: str
    role: str
    window: str | None
    csrf: str

    @property
    def windows(self) -> list[str] | None:
        """The windows whose work they see; None: all (supervisors, directors, admins)."""
        return [self.window or "general"] if self.role == "clerk" else None

    def sees(self, window: str) -> bool:
        return self.windows is None or window in (*self.windows, "general")


class Accounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], redis: Redis,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._redis = redis
        self._clock = clock
        self._log = AuditLog(sessions, clock)
        self._guesses = Lockout(redis, LOGIN, self._log.record)
        self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)

    async def _in_thread(self, work: Callable[[], T]) -> T:
        async with self._hashing:
            return await asyncio.to_thread(work)

    async def _hash(self, password: str) -> str:
        if len(password) < 8:
            raise AccountError("密码至少8位")
        return await self._in_thread(lambda: hash_password(password))

    async def add(self, username: str, name: str, role: str, window: str | None,
                  password: str, by: str = "system") -> None:
        if role not in ROLES:
            raise AccountError(f"角色应为 {'/'.join(ROLES)}")
        password_hash = await self._hash(password)
        try:
            async with self._sessions.begin() as session:
                if await session.scalar(select(Clerk.id).where(Clerk.username == username)):
                    raise ClerkExists(username)
                session.add(Clerk(username=username, name=name, role=role, window=window,
                                  password_hash=password_hash, active=True,
                                  session_generation=0, created_at=self._clock()))
        except IntegrityError:  # added at the same moment elsewhere
            raise ClerkExists(username) from None
        await self.audit(by, "clerk.add", f"clerk:{username}", None,
                         {"role": role, "window": window})

    async def set_password(self, username: str, password: str, by: str) -> None:
        """A new password; the clerk's open sessions end, their wrong tries are forgotten."""
        password_hash = await self._hash(password)
        await self._change(username, by, "clerk.passwd", password_hash=password_hash)
        await self._guesses.forget(user=username)
        await self._guesses.forget_every("user_ip", username)

    async def set_active(self, username: str, active: bool, by: str) -> None:
        """Disable (their open sessions end at once) or enable a clerk."""
        await self._change(username, by, "clerk.enable" if active else "clerk.disable",
                           active=active)

    async def _change(self, username: str, by: str, action: str, **values: Any) -> None:
        async with self._sessions.begin() as session:
            changed = await session.execute(
                update(Clerk).where(Clerk.username == username)
                .values(session_generation=Clerk.session_generation + 1, **values))
        if not getattr(changed, "rowcount", 0):
            raise NoSuchClerk(username)
        await self.audit(by, action, f"clerk:{username}",
                         after={"active": values["active"]} if "active" in values else None)

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Clerk)) or 0)

    async def add_first_admin(self, password: str) -> bool:
        """On a fresh install, the `admin` account. Workers starting together may all try:
        one row is written, and only its writer is told True (and shows the password)."""
        row = {"username": "admin", "name": "管理员", "role": "admin", "window": None,
               "password_hash": await self._hash(password), "active": True,
               "created_at": self._clock()}
        async with self._sessions.begin() as session:
            return await insert_new(session, Clerk, [row], ["username"]) == 1

    async def sign_in(self, username: str, password: str, source: str) -> str | None:
        """A new session id, or None (the same answer for a wrong name or password).
        Raises Locked when the name from this address, the name from anywhere, or the
        address has no try left (bot/security/lockout.py LOGIN)."""
        attempt = await self._guesses.attempt(user_ip=pair(username, source), user=username,
                                              ip=source)
        async with self._sessions() as session:
            clerk = await session.scalar(select(Clerk).where(Clerk.username == username,
                                                             Clerk.active.is_(True)))
        stored = clerk.password_hash if clerk else NOBODY
        if not await self._in_thread(lambda: password_matches(password, stored)) or not clerk:
            await self.audit(username, "login.failed", f"clerk:{username}", None,
                             {"ip": source})
            await attempt.wrong(actor=username)
            return None
        await attempt.right(forget={"user", "user_ip"})
        return await self._open_session(clerk)

    async def _open_session(self, clerk: Clerk) -> str:
        session_id = secrets.token_urlsafe(32)
        who = Who(clerk.username, clerk.name, clerk.role, clerk.window,
                  secrets.token_urlsafe(24))
        record = {"who": asdict(who), "generation": clerk.session_generation,
                  "since": self._clock().timestamp()}
        await self._redis.set(_key(session_id), json.dumps(record), ex=SESSION_IDLE)
        await self.audit(clerk.username, "login", f"clerk:{clerk.username}")
        return session_id

    async def who(self, session_id: str, *, touch: bool = True) -> Who | None:
        """The session's clerk, and (`touch`) its idle timer restarted; None when it has
        ended. An open page's event stream checks without touching: it is no activity."""
        if not session_id:
            return None
        raw = await (self._redis.getex(_key(session_id), ex=SESSION_IDLE) if touch
                     else self._redis.get(_key(session_id)))
        record = json.loads(raw) if raw else {}
        if "who" in record and await self._current(record):
            return Who(**record["who"])
        if raw:
            await self._redis.delete(_key(session_id))
        return None

    async def _current(self, record: dict[str, Any]) -> bool:
        """Younger than SESSION_MAX, of a clerk still active, not revoked since."""
        if self._clock().timestamp() - float(record["since"]) > SESSION_MAX:
            return False
        async with self._sessions() as session:
            return await session.scalar(select(Clerk.id).where(
                Clerk.username == record["who"]["username"], Clerk.active.is_(True),
                Clerk.session_generation == record["generation"])) is not None

    async def account(self, username: str) -> tuple[Who, bool] | None:
        """An account as its clerk with no session, and whether it is active (a clerk API
        token tied to it); None: no such account."""
        async with self._sessions() as session:
            clerk = await session.scalar(select(Clerk).where(Clerk.username == username))
        if clerk is None:
            return None
        return Who(clerk.username, clerk.name, clerk.role, clerk.window, ""), clerk.active

    async def sign_out(self, session_id: str) -> None:
        await self._redis.delete(_key(session_id))

    async def audit(self, actor: str, action: str, target: str,
                    before: dict[str, Any] | None = None,
                    after: dict[str, Any] | None = None) -> None:
        await self._log.record(actor, action, target, before, after)

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        return await self._log.latest(limit)

    async def names(self) -> dict[str, str]:
        """Each login's name, for pages that show who did something."""
        async with self._sessions() as session:
            rows = await session.execute(select(Clerk.username, Clerk.name))
            return {row.username: row.name for row in rows}


    async def answering(self) -> list[tuple[str, str, str | None]]:
        """Active accounts that answer villagers (login, name, window; None: every window),
        for passing a handoff on: never a director, who reads figures."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Clerk.username, Clerk.name, Clerk.window).where(
                    Clerk.active.is_(True), Clerk.role.in_(ANSWERING))
                .order_by(Clerk.name))
            return [(row.username, row.name, row.window) for row in rows]


def _key(session_id: str) -> str:
    return keys.console_session(hashlib.sha256(session_id.encode()).hexdigest())
