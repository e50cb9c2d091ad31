"""Alembic environment: runs migrations on the async engine of DATABASE_URL."""

import asyncio

from sqlalchemy.engine import Connection

from alembic import context
from bot.storage.db import create_engine, lock_migrations
from bot.storage.tables import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    lock_migrations(connection)  # the migration's transaction begins with the lock
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True)  # batch mode: SQLite can alter tables too
    with context.begin_transaction():
        context.run_migrations()


async def main() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


asyncio.run(main())
