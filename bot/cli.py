"""The `bot` console command: serve, worker, train, parse, shell, catalog check/list, clerk,
menu push/show, nlu serve; the NLU's evaluation commands are in bot/nlu/commands.py.

Each command is one boundary: it prints a clear message and exits non-zero on failure,
never a traceback for problems a center's staff can fix (a catalogue typo, no model yet).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.catalogue.loader import load_catalogue
from bot.catalogue.menu import load_menu
from bot.catalogue.model import Catalogue
from bot.catalogue.reading import CatalogueError
from bot.channels.wechat_menu import add_menu_commands
from bot.config import ConfigError, Settings
from bot.console.commands import add_clerk_commands
from bot.nlu.commands import add_evaluation_commands
from bot.nlu.service import NluServiceError
from bot.nlu.training import (
    Labelled,
    Trainer,
    TrainingDataError,
    build_training_input,
    train,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger("bot")


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def catalog_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot import chinatime
    from bot.appointments.rules import load_booking_rules
    from bot.catalogue.center import load_center
    from bot.catalogue.lint import facts, lint
    from bot.catalogue.outside import load_outside
    from bot.catalogue.topics import load_topics
    from bot.notices.rules import load_notice_rules
    from bot.workdays import load_work_calendar

    catalogue = load_catalogue(settings.catalogue_dir)
    load_menu(settings.catalogue_dir)  # within WeChat's limits, every item meaning something
    load_topics(settings.catalogue_dir, catalogue)  # every matter can be picked by number
    center = load_center(settings.catalogue_dir)
    calendar = load_work_calendar(settings.catalogue_dir)
    rules = load_booking_rules(settings.catalogue_dir, frozenset(m.id for m in catalogue))
    notices = load_notice_rules(settings.catalogue_dir)
    outside = load_outside(settings.catalogue_dir)
    if args.sources:  # every fact with its source or flag, as the center reviews them
        for matter in catalogue:
            for fact in facts(matter):
                shown = fact.source or ("待核实(to_confirm)" if fact.to_confirm else "无出处")
                print(f"{fact.matter}.{fact.field}\t{fact.text}\t{shown}")
    findings = lint(catalogue, center, outside, settings.seeds_dir)
    for finding in findings:
        print(finding, file=sys.stderr)
    errors = [f for f in findings if not f.warning]
    if errors:
        print(f"事项目录检查没通过:{len(errors)} 处要改。", file=sys.stderr)
        return 1
    unconfirmed = sum(1 for m in catalogue if m.to_confirm)
    print(f"事项目录检查通过:{len(catalogue)} 个事项,"
          f"其中 {unconfirmed} 个还没有办事指南(to_confirm);中心:{center.name};"
          f"预约窗口 {len(rules.windows)} 个,上门服务人员 {len(rules.home_visit.agents)} 人,"
          f"通知模板 {len(notices.templates)} 种。")
    next_year = chinatime.today().year + 1
    if not calendar.covers(next_year):
        print(f"提醒:{next_year} 年的放假安排还没有录入 catalogue/holidays.yml,"
              f"跨到 {next_year} 年的办结日期将按周一到周五估算。")
    return 0


def catalog_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.catalogue.lint import completeness

    for matter in load_catalogue(settings.catalogue_dir):
        todo = completeness(matter)
        if args.todo and not todo:
            continue
        shown = f"\t待补: {'、'.join(todo)}" if args.todo else ""
        print(f"{matter.id}\t{matter.group}\t{matter.handling}\t{matter.name}{shown}")
    return 0


def ensure_model(settings: Settings, *, force: bool = False, taught: Sequence[Labelled] = (),
                 trainer: Trainer | None = None, catalogue: Catalogue | None = None) -> Path:
    """The model for the catalogue (the files', unless given one with the admins' edits)
    and nlu_data/ (and `taught`, the examples approved in the console), trained unless it
    exists; `trainer` replaces Rasa's (tests)."""
    catalogue = catalogue or load_catalogue(settings.catalogue_dir)
    training = build_training_input(catalogue, settings.nlu_data_dir, settings.nlu_build_dir,
                                    settings.nlu_python, taught=taught)
    if trainer is not None:
        return trainer(training)
    return train(training, settings.models_dir, settings.nlu_python, force=force)


def served_model(settings: Settings, *, force: bool = False) -> Path:
    """The model a worker starts with: trained on what 「发布更新」 trains on — the admins'
    edits of matters and the examples they approved, where the database has them."""
    catalogue, taught = asyncio.run(_console_inputs(settings))
    return ensure_model(settings, force=force, taught=taught, catalogue=catalogue)


async def _console_inputs(settings: Settings) -> tuple[Catalogue, Sequence[Labelled]]:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.catalogue.editing import CatalogueEditor
    from bot.catalogue.revisions import MatterRevisions
    from bot.review.service import ReviewService
    from bot.storage.db import open_database

    try:
        async with open_database(settings.database_url, migrate=False) as sessions:
            editor = CatalogueEditor(settings.catalogue_dir, settings.seeds_dir,
                                     MatterRevisions(sessions))
            return await editor.catalogue(), await ReviewService(sessions).taught()
    except (SQLAlchemyError, OSError):  # no database yet (a fresh install): the files
        log.info("no console edits read (no database yet): training on the files")
        return load_catalogue(settings.catalogue_dir), ()


def train_command(settings: Settings, args: argparse.Namespace) -> int:
    model = served_model(settings, force=args.force)
    print(model)
    return 0


async def _reachable(settings: Settings) -> bool:
    import aiohttp

    from integrations.errors import IntegrationError
    from integrations.rasa import RasaClient

    assert settings.nlu_url is not None
    async with aiohttp.ClientSession() as session:
        try:
            await RasaClient(session, settings.nlu_url, settings.nlu_token, timeout=3).status()
        except IntegrationError:
            return False
    return True


async def _parse_lines(settings: Settings) -> None:
    import dataclasses

    from bot.nlu.runtime import open_understanding

    if settings.nlu_url and not await _reachable(settings):
        print(f"NLU 服务 {settings.nlu_url} 连不上,自己启动一个", file=sys.stderr)
        settings = dataclasses.replace(settings, nlu_url=None)
    async with open_understanding(settings) as understanding:
        for line in sys.stdin:
            result = await understanding.understand(line.rstrip("\n"))
            print(_dump(result.to_json()), flush=True)


async def _shell(settings: Settings, user: str) -> None:
    from datetime import UTC, datetime

    from bot.dialogue.runtime import (
        build_appointments,
        build_case_service,
        build_dialogue,
        open_redis,
    )
    from bot.messages import Channel, Incoming, Kind
    from bot.nlu.runtime import open_understanding
    from bot.security.audit import AuditLog
    from bot.storage.db import open_database

    async with (open_understanding(settings) as understanding, open_redis(settings) as redis,
                open_database(settings.database_url) as sessions):
        cases = build_case_service(settings, sessions)
        appointments = build_appointments(settings, sessions)
        await appointments.bookings.ensure_calendar()
        dialogue = build_dialogue(settings, understanding, redis, cases=cases,
                                  appointments=appointments, audit=AuditLog(sessions).record)
        print("和机器人聊天(Ctrl+D 退出)。", flush=True)
        while True:
            try:
                line = await asyncio.to_thread(input, "我> ")
            except EOFError:
                return
            message = Incoming(Channel.SHELL, user, Kind.TEXT, datetime.now(UTC), text=line)
            turn = await dialogue.handle(message)
            for reply in turn.replies:  # no voice here: what would be read aloud, marked
                print(f"机器人{'(念)' if reply.read_aloud else ''}> {reply.text}\n", flush=True)


def shell_command(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_shell(settings, args.user))
    return 0


def parse_command(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_parse_lines(settings))
    return 0


async def _serve_nlu(settings: Settings, port: int) -> None:
    from bot.nlu.runtime import local_nlu_service

    async with local_nlu_service(settings, port) as url:
        print(f"NLU 服务已就绪: {url}  (各个 bot 进程设 NLU_URL={url} 和同一个 NLU_TOKEN)",
              flush=True)
        await asyncio.Event().wait()  # until Ctrl+C


def nlu_serve_command(settings: Settings, args: argparse.Namespace) -> int:
    import os

    if not os.environ.get("NLU_TOKEN"):
        raise ConfigError("NLU_TOKEN", "请设置:各个 bot 进程用同一个令牌访问 NLU 服务")
    from bot.startup import check_port

    port = args.port or settings.nlu_port
    check_port("NLU_PORT", "127.0.0.1", port)
    served_model(settings)
    asyncio.run(_serve_nlu(settings, port))
    return 0


def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import create_app
    from bot.startup import check_serve

    host = args.host or settings.host
    port = args.port or settings.port
    check_serve(settings, host, port)
    if settings.nlu_url is None:
        served_model(settings)
    ready = f"便民服务机器人已启动: http://{host}:{port}/  (Ctrl+C 退出)"
    if settings.simulator:
        ready += f"\n打开模拟器试试: http://{host}:{port}/simulator"
    # run_app prints once start-up (NLU service included) has finished.
    web.run_app(create_app(settings), host=host, port=port,
                print=lambda _: print(ready, flush=True))
    return 0


async def _work(settings: Settings, concurrency: int) -> None:
    import signal

    import aiohttp

    from bot.dialogue.runtime import (
        build_appointments,
        build_case_service,
        build_handoffs,
        build_synthesizer,
        open_redis,
    )
    from bot.notices.runtime import build_notice_worker
    from bot.storage.db import open_database
    from bot.voice import VoiceMaker, VoiceNotices, VoicePreferences
    from integrations.wechat_api import DEFAULT_API_BASE, WeChatApi

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with (open_redis(settings) as redis, aiohttp.ClientSession() as session,
                open_database(settings.database_url) as sessions):
        wechat = None
        if settings.wechat_app_id and settings.wechat_secret:
            wechat = WeChatApi(session, redis, settings.wechat_app_id,
                               str(settings.wechat_secret),
                               settings.wechat_api_base or DEFAULT_API_BASE)
        else:
            logging.warning("WECHAT_APPID is not set: notices go by SMS only")
        appointments = build_appointments(settings, sessions)
        handoffs = build_handoffs(settings, sessions, redis, appointments)
        synthesizer = build_synthesizer(settings, session)
        aloud = VoiceNotices(VoiceMaker(synthesizer, wechat), VoicePreferences(redis)) \
            if synthesizer and wechat else None
        worker = build_notice_worker(settings, sessions, redis, session, wechat,
                                     build_case_service(settings, sessions), appointments,
                                     concurrency, periodic=(handoffs.escalate_overdue,),
                                     aloud=aloud)
        print(f"通知发送进程已启动(短信: {settings.sms_provider})", flush=True)
        await worker.run(stop)


def worker_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.startup import check_backends

    asyncio.run(check_backends(settings))
    asyncio.run(_work(settings, args.concurrency))
    return 0


def port_number(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError("端口应为 1 到 65535 之间的整数")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description="便民服务中心微信机器人")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="启动服务(未设 NLU_URL 时同时启动 NLU 服务)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=port_number)
    serve.set_defaults(handler=serve_command)

    work = commands.add_parser("worker", help="只运行通知发送(可多开;serve 默认自带一个)")
    work.add_argument("--concurrency", type=int, default=20, help="同时发送的通知数")
    work.set_defaults(handler=worker_command)

    add_clerk_commands(commands)
    add_menu_commands(commands)

    train_parser = commands.add_parser("train", help="训练 NLU 模型(数据没变则跳过)")
    train_parser.add_argument("--force", action="store_true", help="数据没变也重新训练")
    train_parser.set_defaults(handler=train_command)

    shell = commands.add_parser("shell", help="在终端里和机器人聊天(同一套对话代码)")
    shell.add_argument("--user", default="shell-user", help="对话用户编号")
    shell.set_defaults(handler=shell_command)

    parse = commands.add_parser("parse", help="从标准输入每行读一个问题,每行输出一个 JSON")
    parse.set_defaults(handler=parse_command)

    catalog = commands.add_parser("catalog", help="事项目录").add_subparsers(
        dest="catalog_command", required=True)
    check = catalog.add_parser("check", help="检查事项目录")
    check.add_argument("--sources", action="store_true", help="列出每条事实和它的出处")
    check.set_defaults(handler=catalog_check)
    listing = catalog.add_parser("list", help="列出事项:编号<TAB>类别<TAB>办理方式<TAB>名称")
    listing.add_argument("--todo", action="store_true", help="只列还要补的事项和要补什么")
    listing.set_defaults(handler=catalog_list)

    nlu = commands.add_parser("nlu", help="NLU 工具").add_subparsers(
        dest="nlu_command", required=True)
    nlu_serve = nlu.add_parser("serve", help="单独运行 NLU 服务(多个 bot 进程共用)")
    nlu_serve.add_argument("--port", type=port_number)
    nlu_serve.set_defaults(handler=nlu_serve_command)
    add_evaluation_commands(nlu)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # noise at import
    args = build_parser().parse_args(argv)
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(Settings.from_env(), args)
    except CatalogueError as exc:
        print(f"事项目录有 {len(exc.problems)} 处错误:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except ConfigError as exc:  # before anything started: one line, naming the variable
        print(f"配置错误: {exc}", file=sys.stderr)
        return 2
    except (TrainingDataError, NluServiceError, ValueError) as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"错误: Rasa 训练失败(退出码 {exc.returncode}),见上面的输出", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
