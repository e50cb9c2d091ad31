"""The `bot clerk` commands: add a console account, set its password, disable or enable it
(bot/cli.py adds them)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.config import Settings

if TYPE_CHECKING:
    from bot.console.accounts import Accounts


async def _on_accounts(settings: Settings, change: Callable[[Accounts], Awaitable[None]]
                       ) -> None:
    from bot.console.accounts import Accounts
    from bot.dialogue.runtime import open_redis
    from bot.storage.db import open_database

    async with open_redis(settings) as redis, open_database(settings.database_url) as sessions:
        await change(Accounts(sessions, redis))


def _password(args: argparse.Namespace) -> tuple[str, str]:
    """The password given, else a random one; and how to show it (a given one is not)."""
    import secrets

    password = args.password or secrets.token_urlsafe(12)
    return password, "(你给的密码)" if args.password else password


def clerk_add_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.accounts import ClerkExists

    password, shown = _password(args)
    try:
        asyncio.run(_on_accounts(settings, lambda accounts: accounts.add(
            args.username, args.name, args.role, args.window, password, by="cli")))
    except ClerkExists as exists:
        print(f"错误: {exists}。改密码用 bot clerk passwd {args.username},"
              f"停用用 bot clerk disable {args.username}", file=sys.stderr)
        return 1
    print(f"已添加 {args.username}({args.name},{args.role}),密码: {shown}")
    return 0


def clerk_passwd_command(settings: Settings, args: argparse.Namespace) -> int:
    password, shown = _password(args)
    asyncio.run(_on_accounts(settings, lambda accounts: accounts.set_password(
        args.username, password, by="cli")))
    print(f"已为 {args.username} 设置新密码: {shown};他已打开的工作台都要重新登录")
    return 0


def clerk_active_command(settings: Settings, args: argparse.Namespace) -> int:
    active = args.clerk_command == "enable"
    asyncio.run(_on_accounts(settings, lambda accounts: accounts.set_active(
        args.username, active, by="cli")))
    print(f"已启用 {args.username}" if active else
          f"已停用 {args.username};他已打开的工作台立即失效")
    return 0


def add_clerk_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `clerk add|passwd|disable|enable` to the `bot` subcommands."""
    clerk = commands.add_parser("clerk", help="工作台账号").add_subparsers(
        dest="clerk_command", required=True)
    add = clerk.add_parser("add", help="添加账号(不给密码就随机生成一个并显示)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="姓名")
    add.add_argument("--role", default="clerk", choices=["clerk", "supervisor", "director",
                                                          "admin"])
    add.add_argument("--window", help="窗口编号(booking.yml 里的 windows[].id),窗口人员必填")
    add.add_argument("--password")
    add.set_defaults(handler=clerk_add_command)
    passwd = clerk.add_parser("passwd", help="改密码(不给就随机生成一个并显示);已登录的要重新登录")
    passwd.add_argument("username")
    passwd.add_argument("--password")
    passwd.set_defaults(handler=clerk_passwd_command)
    for verb, words in (("disable", "停用账号(已登录的立即失效)"), ("enable", "重新启用账号")):
        toggle = clerk.add_parser(verb, help=words)
        toggle.add_argument("username")
        toggle.set_defaults(handler=clerk_active_command)
