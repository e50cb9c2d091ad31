"""Entry stage: what `bot serve` and `bot worker` check before starting anything.

A port already taken, a database or Redis that does not answer: each is one ConfigError
naming the variable, raised before the NLU service is started (which takes seconds and
hundreds of MB) and before any traceback could bury it.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from urllib.parse import urlsplit

from redis.asyncio import Redis
from sqlalchemy import text

from bot.appointments.rules import load_booking_rules
from bot.catalogue.loader import load_catalogue
from bot.config import ConfigError, Settings
from bot.storage.db import create_engine
from bot.web.clerk_api import check_windows, parse_tokens

CONNECT_TIMEOUT = 5.0


def check_port(variable: str, host: str, port: int) -> None:
    """The port can be listened on at every address `host` names (IPv4, IPv6), as the server
    will bind them all: a stale process of ours, or another program, may hold one."""
    try:
        addresses = {(*info[:3], info[4]) for info in socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)}
    except socket.gaierror as error:
        raise ConfigError(variable, f"地址 {host} 无法解析({error.strerror})") from None
    for family, kind, protocol, address in addresses:
        try:
            probe = socket.socket(family, kind, protocol)
        except OSError:  # a family this machine lacks (IPv6 off): the server skips it too
            continue
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            if family == socket.AF_INET6:  # as asyncio binds: IPv4 is checked on its own
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as error:
                reason = "已被别的进程占用" if error.errno == errno.EADDRINUSE \
                    else error.strerror
                raise ConfigError(variable, f"端口 {host}:{port} {reason},请换一个端口或先停掉"
                                            "占用它的进程(ss -ltnp 可查)") from None


def check_clerk_tokens(settings: Settings) -> None:
    """CLERK_TOKENS parses and names only windows catalogue/booking.yml has."""
    tokens = parse_tokens(settings.clerk_tokens)
    matters = frozenset(matter.id for matter in load_catalogue(settings.catalogue_dir))
    check_windows(tokens, load_booking_rules(settings.catalogue_dir, matters))


def where(url: str) -> str:
    """Host, port and database of a URL, without its password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or ''}{parts.path}"


def _reason(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return (str(cause).splitlines() or [type(cause).__name__])[0][:200]


async def check_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    engine = create_engine(url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # whatever the driver raises, the operator needs the same line
        raise ConfigError("DATABASE_URL", f"连不上数据库 {where(url)}: {_reason(error)}"
                          ) from None
    finally:
        await engine.dispose()


async def check_redis(url: str | None) -> None:
    if url is None:
        return
    redis: Redis = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT,
                                  socket_timeout=CONNECT_TIMEOUT)
    try:
        await redis.ping()
    except Exception as error:
        raise ConfigError("REDIS_URL", f"连不上 Redis {where(url)}: {_reason(error)}") from None
    finally:
        await redis.aclose()


async def check_backends(settings: Settings) -> None:
    await check_database(settings.database_url)
    await check_redis(settings.redis_url)


def check_serve(settings: Settings, host: str, port: int) -> None:
    check_clerk_tokens(settings)
    check_port("BOT_PORT", host, port)
    if settings.nlu_url is None:  # `bot serve` starts Rasa on NLU_PORT itself
        check_port("NLU_PORT", "127.0.0.1", settings.nlu_port)
    asyncio.run(check_backends(settings))
