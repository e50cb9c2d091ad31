"""Outbound delivery: `bot menu push` puts the bottom menu of catalogue/menu.yml on the
official account through WeChat's 自定义菜单 API (bot/cli.py adds the commands); `bot menu
show` prints it. The menu is checked against WeChat's limits before anything is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.catalogue.menu import Menu, load_menu
from bot.config import Settings


async def push_menu(settings: Settings, menu: Menu) -> None:
    """IntegrationError when WeChat refuses it (its code says why)."""
    import aiohttp

    from bot.dialogue.runtime import open_redis
    from integrations.wechat_api import DEFAULT_API_BASE, WeChatApi

    assert settings.wechat_app_id and settings.wechat_secret
    async with open_redis(settings) as redis, aiohttp.ClientSession() as session:
        api = WeChatApi(session, redis, settings.wechat_app_id, str(settings.wechat_secret),
                        settings.wechat_api_base or DEFAULT_API_BASE)
        await api.create_menu(menu.wechat_body())


def _shown(menu: Menu) -> str:
    return "\n".join(f"{button.name}：" + "、".join(item.name for item in button.items)
                     for button in menu.buttons)


def menu_push_command(settings: Settings, args: argparse.Namespace) -> int:
    from integrations.errors import IntegrationError

    menu = load_menu(settings.catalogue_dir)
    if not menu.buttons:
        print("catalogue/menu.yml 不存在，没有菜单可推送", file=sys.stderr)
        return 2
    if not (settings.wechat_app_id and settings.wechat_secret):
        print("请先设置 WECHAT_APPID 和 WECHAT_SECRET（公众号的开发者 ID 和密码）",
              file=sys.stderr)
        return 2
    try:
        asyncio.run(push_menu(settings, menu))
    except IntegrationError as refused:
        print(f"微信没有接受这个菜单（错误码 {refused.code}：{refused.message}）", file=sys.stderr)
        return 1
    print(f"菜单已推送，几分钟内关注者的手机上就会更新：\n{_shown(menu)}")
    return 0


def menu_show_command(settings: Settings, args: argparse.Namespace) -> int:
    print(_shown(load_menu(settings.catalogue_dir)) or "没有菜单（catalogue/menu.yml）")
    return 0


def add_menu_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    menu = commands.add_parser("menu", help="公众号底部菜单").add_subparsers(
        dest="menu_command", required=True)
    menu.add_parser("push", help="把 catalogue/menu.yml 推送到公众号").set_defaults(
        handler=menu_push_command)
    menu.add_parser("show", help="显示菜单").set_defaults(handler=menu_show_command)
