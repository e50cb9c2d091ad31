"""Domain services stage: the official account's bottom menu (catalogue/menu.yml) — one tap
instead of typing, for those who cannot type well. Checked against WeChat's limits when
read, turned into the body of WeChat's 自定义菜单 API by `wechat_body`, and each item's key
tells the dialogue what a click means: the intent it stands for, or a fixed word it sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalogue.reading import CatalogueError, CatalogueProblem, read_yaml
from bot.intents import Intent

MENU_FILE = "menu.yml"
# WeChat's limits (自定义菜单/创建接口): buttons, items a button, bytes of a name, of a key
MAX_BUTTONS, MAX_ITEMS = 3, 5
BUTTON_BYTES, ITEM_BYTES, KEY_BYTES = 16, 60, 128


@dataclass(frozen=True, slots=True)
class MenuItem:
    name: str
    key: str
    intent: Intent | None = None  # what a villager could have asked …
    command: str = ""  # … or the fixed word a tap sends


@dataclass(frozen=True, slots=True)
class MenuButton:
    name: str
    items: tuple[MenuItem, ...]


@dataclass(frozen=True, slots=True)
class Menu:
    buttons: tuple[MenuButton, ...] = ()

    def item(self, key: str) -> MenuItem | None:
        return next((i for b in self.buttons for i in b.items if i.key == key), None)

    def wechat_body(self) -> dict[str, Any]:
        """The body of POST /cgi-bin/menu/create."""
        return {"button": [
            {"name": button.name, "sub_button": [
                {"type": "click", "name": item.name, "key": item.key} for item in button.items]}
            for button in self.buttons]}


def _item(raw: object, where: str, problems: list[CatalogueProblem]) -> MenuItem | None:
    if not isinstance(raw, dict):
        problems.append(CatalogueProblem(MENU_FILE, where, "应为 name、key 和 intent 或 command"))
        return None
    name, key = str(raw.get("name", "")).strip(), str(raw.get("key", "")).strip()
    intent, command = str(raw.get("intent", "")).strip(), str(raw.get("command", "")).strip()
    if not name or len(name.encode()) > ITEM_BYTES:
        problems.append(CatalogueProblem(MENU_FILE, f"{where}.name",
                                         "必填，最多 20 个汉字（微信的限制）"))
    if not key or len(key.encode()) > KEY_BYTES or not key.isascii():
        problems.append(CatalogueProblem(MENU_FILE, f"{where}.key", "必填，英文字母、数字"))
    if bool(intent) == bool(command):
        problems.append(CatalogueProblem(MENU_FILE, where, "intent 和 command 只写一个"))
    elif intent and intent not in {i.value for i in Intent}:
        problems.append(CatalogueProblem(MENU_FILE, f"{where}.intent", f"没有这个意图：{intent}"))
    return MenuItem(name, key, Intent(intent) if intent in {i.value for i in Intent} else None,
                    command)


def load_menu(directory: Path) -> Menu:
    """The menu of catalogue/menu.yml; none when the file is absent. CatalogueError lists
    every problem, WeChat's limits included, before anything is pushed."""
    if not (directory / MENU_FILE).exists():
        return Menu()
    data = read_yaml(directory / MENU_FILE, "公众号菜单")
    problems: list[CatalogueProblem] = []
    raw_buttons = data.get("buttons") if isinstance(data, dict) else None
    if not isinstance(raw_buttons, list) or not 1 <= len(raw_buttons) <= MAX_BUTTONS:
        raise CatalogueError([CatalogueProblem(MENU_FILE, "buttons",
                                               f"应有 1 到 {MAX_BUTTONS} 个按钮（微信的限制）")])
    buttons: list[MenuButton] = []
    for number, raw in enumerate(raw_buttons, 1):
        where = f"buttons[{number}]"
        raw = raw if isinstance(raw, dict) else {}
        name = str(raw.get("name", "")).strip()
        if not name or len(name.encode()) > BUTTON_BYTES:
            problems.append(CatalogueProblem(MENU_FILE, f"{where}.name",
                                             "必填，最多 5 个汉字（微信的限制）"))
        raw_items = raw.get("items")
        if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= MAX_ITEMS:
            problems.append(CatalogueProblem(MENU_FILE, f"{where}.items",
                                             f"应有 1 到 {MAX_ITEMS} 项（微信的限制）"))
            raw_items = []
        items = [item for index, item_raw in enumerate(raw_items, 1)
                 if (item := _item(item_raw, f"{where}.items[{index}]", problems))]
        buttons.append(MenuButton(name, tuple(items)))
    keys = [item.key for button in buttons for item in button.items]
    for key in {k for k in keys if keys.count(k) > 1}:
        problems.append(CatalogueProblem(MENU_FILE, key, "key 重复了"))
    if problems:
        raise CatalogueError(problems)
    return Menu(tuple(buttons))


NO_MENU = Menu()
