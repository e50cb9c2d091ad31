"""Issue #16 item 5: the official account's bottom menu — one tap instead of typing. The
file is held to WeChat's limits, pushed through WeChat's menu API (a local fake that checks
what WeChat checks), and every item a villager taps is answered."""

import dataclasses
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.catalogue.menu import load_menu
from bot.catalogue.reading import CatalogueError
from bot.channels.wechat_menu import push_menu
from bot.cli import main
from bot.config import Secret, Settings
from bot.intents import texts
from bot.storage.tables import Handoff
from integrations.errors import IntegrationError
from integrations.fakes.wechat_api import start_fake_wechat
from tests import test_console
from tests.conftest import TEST_REDIS_URL
from tests.test_wechat import event_xml, post, reply_text

CATALOGUE = Settings.from_env({}).catalogue_dir
app_client, clock = test_console.app_client, test_console.clock  # the console's fixtures


def test_the_menu_fits_wechats_limits_and_every_item_means_something():
    menu = load_menu(CATALOGUE)
    body = menu.wechat_body()
    assert 1 <= len(body["button"]) <= 3
    for button in body["button"]:
        assert len(button["name"].encode()) <= 16 and 1 <= len(button["sub_button"]) <= 5
        for item in button["sub_button"]:
            assert item["type"] == "click" and len(item["name"].encode()) <= 60
            assert menu.item(item["key"]).intent or menu.item(item["key"]).command


def test_a_menu_past_wechats_limits_is_refused_with_every_reason(tmp_path: Path):
    item = {"name": "查进度", "key": "K", "intent": "check_progress"}
    (tmp_path / "menu.yml").write_text(yaml.safe_dump({"buttons": [
        {"name": "我的办件和预约", "items": [item]},  # 7 characters: 21 bytes
        {"name": "问", "items": [{**item, "key": f"K{n}"} for n in range(6)]},
        {"name": "找人", "items": [item, {"name": "投诉", "key": "K9", "intent": "complain",
                                         "command": "投诉"},
                                  {"name": "乱", "key": "K8", "intent": "no_such"}]},
    ]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        load_menu(tmp_path)
    said = str(refused.value)
    for reason in ("最多 5 个汉字", "应有 1 到 5 项", "key 重复了", "intent 和 command 只写一个",
                   "没有这个意图：no_such"):
        assert reason in said
    (tmp_path / "menu.yml").write_text(yaml.safe_dump({"buttons": [
        {"name": "问", "items": [item]}] * 4}), encoding="utf-8")
    with pytest.raises(CatalogueError, match="1 到 3 个按钮"):
        load_menu(tmp_path)


async def test_the_menu_is_pushed_through_wechats_menu_api(real_redis):
    menu = load_menu(CATALOGUE)
    async with start_fake_wechat() as fake:
        settings = dataclasses.replace(
            Settings.from_env({}), wechat_app_id=fake.app_id,
            wechat_secret=Secret(fake.secret), wechat_api_base=fake.url,
            redis_url=TEST_REDIS_URL)
        await push_menu(settings, menu)
        assert fake.state.menu == menu.wechat_body()
        # what WeChat refuses is refused here too, with its code
        too_long = dataclasses.replace(menu, buttons=(dataclasses.replace(
            menu.buttons[0], name="问办事问办事问办事"),))
        with pytest.raises(IntegrationError) as refused:
            await push_menu(settings, too_long)
        assert refused.value.code == 40018


def test_pushing_without_the_accounts_credentials_says_what_to_set(capsys, monkeypatch):
    monkeypatch.delenv("WECHAT_APPID", raising=False)
    monkeypatch.delenv("WECHAT_SECRET", raising=False)
    assert main(["menu", "push"]) == 2
    assert "请先设置 WECHAT_APPID 和 WECHAT_SECRET" in capsys.readouterr().err
    assert main(["menu", "show"]) == 0
    assert "我的办件进度" in capsys.readouterr().out


async def test_every_menu_item_a_villager_taps_is_answered(app_client, sessions):
    menu = load_menu(CATALOGUE)
    answers = {}
    for button in menu.buttons:
        for item in button.items:
            _, body = await post(app_client, event_xml("CLICK", user=f"o_{item.key}",
                                                       key=item.key))
            answers[item.key] = reply_text(body)
    welcome = texts.WELCOME.format(center="示例镇便民服务中心")
    assert all(answer and not answer.startswith(welcome) for answer in answers.values()), answers
    assert "上班时间" in answers["MENU_HOURS"]
    assert "已为您转人工" in answers["MENU_HUMAN"]
    assert answers["MENU_COMPLAIN"].startswith("请直接写下")
    async with sessions() as session:
        reasons = {h.user_id: h.reason for h in await session.scalars(select(Handoff))}
    assert reasons == {"o_MENU_HUMAN": "menu", "o_MENU_COMPLAIN": "complaint"}
    # a key of a menu since replaced still gets an answer: the welcome and the menu by number
    _, body = await post(app_client, event_xml("CLICK", user="o_old", key="MENU_GONE"))
    assert reply_text(body).startswith(welcome) and "\n8. 我的办件进度" in reply_text(body)
