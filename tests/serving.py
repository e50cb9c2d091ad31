"""`bot serve` as a real process for the operations tests: start, wait, find its children.

Every process started here is ended by the test that started it (`stop`), in a finally.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bot.config import ROOT
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL

UP_TIMEOUT = 180.0  # a start that trains nothing but loads Rasa takes ~10 s on a busy machine
OWN_VARIABLES = ("NLU_", "BOT_", "DATABASE_URL", "REDIS_URL", "NOTICE_WORKER", "CLERK_TOKENS")


CLERK_TOKEN = "ops-test-token-0123456789"
CLERK = {"Authorization": f"Bearer {CLERK_TOKEN}"}


def serve_env(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=TEST_DATABASE_URL, REDIS_URL=TEST_REDIS_URL,
               NOTICE_WORKER="0", CLERK_TOKENS=f"值班员:{CLERK_TOKEN}")
    env.update(variables)
    return env


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on, each held until all are picked (two
    pickings one after the other may get the same port)."""
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
                                env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=output)


async def wait_up(process: subprocess.Popen[bytes], port: int) -> bool:
    """True once /healthz answers; False if the process exits first."""
    deadline = time.monotonic() + UP_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)  # polling for a condition, not waiting out a race
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(30)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as dead: it holds no port)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
