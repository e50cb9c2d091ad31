"""Domain services stage: console accounts, sessions and the audit log.

Passwords are stored as scrypt hashes (salted, N=2^14). A session is a random id in an
HttpOnly cookie; the session itself (clerk, CSRF token) lives in Redis and expires after
`SESSION_IDLE` without use, so every worker knows it and a restart keeps it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.db import insert_new
from bot.storage.tables import AuditEntry, Clerk

ROLES = ("clerk", "supervisor", "director", "admin")
SESSION_IDLE = 30 * 60  # seconds
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


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

    async def add(self, username: str, name: str, role: str, window: str | None,
                  password: str) -> None:
        if role not in ROLES:
            raise ValueError(f"角色应为 {'/'.join(ROLES)}")
        if len(password) < 8:
            raise ValueError("密码至少8位")
        async with self._sessions.begin() as session:
            session.add(Clerk(username=username, name=name, role=role, window=window,
                              password_hash=hash_password(password), active=True,
                              created_at=self._clock()))

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Clerk)) or 0)

    async def add_first_admin(self, password: str) -> bool:
        """On a fresh install, the `admin` account. Workers starting together may all try:
        one row is written, and only its writer is told True (and shows the password)."""
        row = {"username": "admin", "name": "管理员", "role": "admin", "window": None,
               "password_hash": hash_password(password), "active": True,
               "created_at": self._clock()}
        async with self._sessions.begin() as session:
            return await insert_new(session, Clerk, [row], ["username"]) == 1

    async def sign_in(self, username: str, password: str) -> str | None:
        """A new session id, or None (the same answer for a wrong name or password)."""
        async with self._sessions() as session:
            clerk = await session.scalar(select(Clerk).where(Clerk.username == username,
                                                             Clerk.active.is_(True)))
        stored = clerk.password_hash if clerk else hash_password("timing: same work")
        if not password_matches(password, stored) or clerk is None:
            return None
        session_id = secrets.token_urlsafe(32)
        who = Who(clerk.username, clerk.name, clerk.role, clerk.window,
                  secrets.token_urlsafe(24))
        await self._redis.set(_key(session_id), json.dumps(asdict(who)), ex=SESSION_IDLE)
        await self.audit(clerk.username, "login", clerk.username)
        return session_id

    async def who(self, session_id: str) -> Who | None:
        """The session's clerk, and its idle timer restarted; None when expired."""
        if not session_id:
            return None
        raw = await self._redis.getex(_key(session_id), ex=SESSION_IDLE)
        return Who(**json.loads(raw)) if raw else None

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
        async with self._sessions.begin() as session:
            session.add(AuditEntry(at=self._clock(), actor=actor, action=action,
                                   target=target, before=before, after=after))

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        async with self._sessions() as session:
            return list(await session.scalars(select(AuditEntry).order_by(
                AuditEntry.id.desc()).limit(limit)))


def _key(session_id: str) -> str:
    return f"bm:console:session:{hashlib.sha256(session_id.encode()).hexdigest()}"
