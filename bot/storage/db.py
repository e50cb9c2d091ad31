"""Storage stage: the database engine, sessions and migrations.

DATABASE_URL selects the database: `postgresql+asyncpg://…` in production and tests,
`sqlite+aiosqlite:///…` (the default, a file under .data/) for `make run` with no server.
The schema is Alembic's (alembic/versions/); `upgrade()` brings a database to the latest.
Workers started together migrate one at a time (a PostgreSQL advisory lock, held by the
migration's own transaction); the others then find the schema current.
Engines never put bound parameters in errors or logs: they hold password hashes, ID numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from alembic import command
from bot.storage.tables import DomainEvent

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url)
    return config


# pg_advisory_xact_lock's key for "migrating this database" (any constant of our own).
MIGRATION_LOCK = 0x626D_6D69_6772  # "bmmigr"


def lock_migrations(connection: Connection) -> None:
    """Wait for any other worker's migration; ours holds the lock until it commits.
    SQLite is one file of one `make run` process: it needs none."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def create_engine(url: str, **options: Any) -> AsyncEngine:
    return create_async_engine(url, hide_parameters=True, **options)


async def upgrade(url: str) -> None:
    """Apply every migration (Alembic's own engine, in a thread: its API is synchronous)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def insert_new(session: AsyncSession, table: Any, rows: list[dict[str, Any]],
                     unique: list[str]) -> int:
    """INSERT … ON CONFLICT (unique) DO NOTHING, in chunks; returns the rows added.
    PostgreSQL in production, SQLite for `make run`: both speak it."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(rows), 2000):  # stay under the bind-parameter limit
        result = await session.execute(insert(table).values(rows[start:start + 2000])
                                       .on_conflict_do_nothing(index_elements=unique))
        added += int(getattr(result, "rowcount", 0) or 0)
    return added


async def write_events_once(sessions: async_sessionmaker[AsyncSession],
                            events: list[Any]) -> int:
    """Outbox events keyed by their dedup_key (reminders): each is written once, however
    many workers write it. Returns how many were new."""
    if not events:
        return 0
    rows = [{"kind": e.kind, "case_id": e.case_id, "payload": e.payload,
             "created_at": e.created_at, "dedup_key": e.dedup_key} for e in events]
    async with sessions.begin() as session:
        return await insert_new(session, DomainEvent, rows, ["dedup_key"])


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(connection: object, record: object) -> None:
    # SQLite ignores foreign keys unless asked, per connection.
    module = type(connection).__module__
    if "sqlite" in module:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@asynccontextmanager
async def open_database(url: str, *,
                        migrate: bool = True) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        await upgrade(url)
    engine = create_engine(url, pool_pre_ping=True)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
