"""Storage stage: the database engine, sessions and migrations.

DATABASE_URL selects the database: `postgresql+asyncpg://…` in production and tests,
`sqlite+aiosqlite:///…` (the default, a file under .data/) for `make run` with no server.
The schema is Alembic's (alembic/versions/); `upgrade()` brings a database to the latest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from alembic import command

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(url: str) -> None:
    """Apply every migration (Alembic's own engine, in a thread: its API is synchronous)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


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
    engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
