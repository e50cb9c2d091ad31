"""What the benchmarks share: percentiles, and a throw-away PostgreSQL database."""

from __future__ import annotations

import asyncpg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def fresh_database(name: str) -> str:
    """Drop and create database `name`; its SQLAlchemy URL."""
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
