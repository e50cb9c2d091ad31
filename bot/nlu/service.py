"""NLU stage, process management: run Rasa's HTTP server from its own virtual environment.

Rasa 3.6 needs Python 3.10 and old aiohttp/SQLAlchemy/pydantic, so it is a separate process
bound to 127.0.0.1 with a token; every bot worker on the machine shares it. In production
it runs as its own service and the bot is given NLU_URL and NLU_TOKEN instead.
Rasa's own log goes to a file at WARNING level: it never contains villagers' messages.
The child dies with its parent (Linux's parent-death signal), so a `kill -9` of the bot
leaves no Rasa holding the port; its token goes by environment, never the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bot.nlu.training import rasa_command, rasa_environment
from integrations.errors import ServiceUnavailable
from integrations.rasa import RasaClient

READY_TIMEOUT = 120.0
POLL_INTERVAL = 0.1
STOP_GRACE = 3.0  # seconds Rasa gets to exit on SIGTERM: it keeps nothing worth waiting for


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class NluServiceError(RuntimeError):
    pass


def die_with(parent: int) -> Callable[[], None] | None:
    """For Popen's preexec_fn (Linux): the child gets SIGKILL when `parent` dies, even by
    `kill -9`. If the parent died before the signal was set, the child ends at once."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None).prctl  # looked up here: the forked child only calls it

    def set_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return set_death_signal


class NluProcess:
    """A Rasa server child process; `start()` returns once it answers /model/parse."""

    def __init__(self, python: Path, model: Path, port: int, token: str, log_file: Path) -> None:
        self.python = python
        self.model = model
        self.port = port
        self.token = token
        self.log_file = log_file
        self.process: asyncio.subprocess.Process | None = None
        self.ready_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = READY_TIMEOUT) -> None:
        if not self.python.exists():
            raise NluServiceError(f"找不到 Rasa 的运行环境 ({self.python}):请先运行 make nlu-venv")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with self.log_file.open("ab") as log:
            command = rasa_command(
                self.python, "run", "--enable-api", "--quiet",
                "--model", str(self.model), "--interface", "127.0.0.1",
                "--port", str(self.port), "--log-file", str(self.log_file),
            )
            self.process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                env=rasa_environment() | {"RASA_AUTH_TOKEN": self.token},
                preexec_fn=die_with(os.getpid()),
            )
        await self._wait_ready(timeout)
        self.ready_seconds = time.perf_counter() - started

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            client = RasaClient(session, self.url, self.token, timeout=2.0)
            while time.monotonic() < deadline:
                if self.process is not None and self.process.returncode is not None:
                    raise NluServiceError(f"Rasa 启动失败,退出码 {self.process.returncode},"
                                          f"见 {self.log_file}")
                with contextlib.suppress(ServiceUnavailable):
                    await client.parse("你好")
                    return
                await asyncio.sleep(POLL_INTERVAL)
        await self.stop()
        raise NluServiceError(f"Rasa 在 {timeout:.0f} 秒内没有就绪,见 {self.log_file}")

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            process.kill()
            await process.wait()
