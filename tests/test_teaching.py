"""Issue #15 item 6, 「教机器人」: the questions the bot did not answer reach the clerks'
review list (numbers masked, repeats counted), become training examples an admin approves
into the next 「发布更新」; the bot's containment counts only answered questions; admins
edit a matter in forms, checked as `bot catalog check` checks the files, and undo it.

No NLU model here: the dialogue reads scripted NLU results, the console runs with an NLU
address it never calls, and publishing trains with a fake trainer.
"""

import dataclasses
import hashlib
import re
from datetime import UTC, datetime

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app, publish_catalogue
from bot.catalogue.editing import CatalogueEditor, form_of
from bot.catalogue.loader import load_catalogue
from bot.catalogue.revisions import MatterRevisions
from bot.config import Secret, Settings
from bot.dialogue.manager import Dialogue
from bot.dialogue.state import StateStore
from bot.messages import Channel, Incoming, Kind
from bot.nlu.matters import Candidate
from bot.nlu.training import build_training_input
from bot.nlu.understand import NluResult
from bot.review.service import Order, ReviewService, Taught
from bot.storage import keys
from bot.storage.tables import AuditEntry
from bot.web.console_base import CONSOLE
from tests.conftest import TEST_DATABASE_URL, Clock
from tests.test_console import MONDAY_MORNING, Clerk, shown_text
from tests.test_wechat import wechat_settings

TODAY = MONDAY_MORNING.date().isoformat()


def understood(text, intent, confidence=0.95, matter=None, candidates=()):
    return NluResult(text, intent, confidence, matter, 0.95 if matter else 0.0,
                     candidates=candidates)


SCRIPT = {r.text: r for r in (
    understood("低保要多久", "ask_time_limit", matter="dibao"),
    understood("几点上班", "ask_office_hours"),
    understood("低保", "ask_materials", 0.3, "dibao"),  # a matter alone: what about it?
    understood("低保和五保有啥区别", "ask_conditions",
               candidates=(Candidate("dibao", 0.9), Candidate("wubao", 0.9))),
    understood("我要找人工", "human_handoff"),
)}


class ScriptedNlu:
    """What the NLU makes of each message, from SCRIPT; anything else: not understood."""

    async def understand(self, text):
        return SCRIPT.get(text) or NluResult(text, None, 0.0, None, 0.0)


@pytest.fixture
async def dialogue(sessions, real_redis):
    catalogue = load_catalogue(Settings.from_env({}).catalogue_dir)
    from bot.catalogue.center import load_center

    review = ReviewService(sessions)
    return Dialogue(ScriptedNlu(), StateStore(real_redis), catalogue,
                    load_center(Settings.from_env({}).catalogue_dir), review=review), review


async def say(dialogue, text, user="o_teach", at=MONDAY_MORNING):
    turn = await dialogue.handle(Incoming(Channel.WECHAT, user, Kind.TEXT, at, text=text))
    return "\n".join(reply.text for reply in turn.replies)


async def test_what_the_bot_did_not_answer_is_noted_and_only_answers_are_contained(
        dialogue, real_redis):
    bot, review = dialogue
    assert "34个工作日" in await say(bot, "低保要多久")  # answered from the guide
    assert "上班" in await say(bot, "几点上班")  # answered too: the office hours
    await say(bot, "低保", user="o_menu")  # only the menu of questions about 低保
    await say(bot, "低保和五保有啥区别")  # 1. 低保 2. 五保: the bot could not narrow it
    await say(bot, "我身份证11010519491231002X，这个该咋整", user="o_other")
    await say(bot, "我身份证 110105 19491231 002X 这个该咋整！", user="o_third")  # the same
    await say(bot, "我要找人工", user="o_other")  # the question before it is the one to see
    questions, pages = await review.questions(Order.MOST, 1)
    rows = [(q.text, q.reason, q.count) for q in questions]
    assert pages == 1
    assert rows[0] == ("我身份证1101**********002X，这个该咋整", "asked", 3)  # the latest
    assert {r[:2] for r in rows[1:]} == {("低保", "bare_menu"), ("低保和五保有啥区别", "choices")}
    assert "11010519491231002X" not in str(rows) and "我要找人工" not in str(rows)
    # the director's containment: 2 of 7 questions answered (the handoff request counts as
    # a question the bot did not answer)
    asked, answered = await real_redis.mget(keys.QUESTIONS_ON.format(day=TODAY),
                                            keys.ANSWERED_ON.format(day=TODAY))
    assert (int(asked), int(answered)) == (7, 2)


async def test_the_newest_come_first_when_asked_and_pages_hold_twenty(sessions):
    review = ReviewService(sessions)
    for n in range(25):
        at = datetime(2026, 11, 23, 2, n, tzinfo=UTC)
        for _ in range(n % 3 + 1):
            await review.note(f"问题{n}", "not_understood", at)
    first, pages = await review.questions(Order.MOST, 1)
    assert pages == 2 and len(first) == 20 and first[0].count == 3
    newest, _ = await review.questions(Order.NEWEST, 1)
    assert newest[0].text == "问题24"
    second, _ = await review.questions(Order.NEWEST, 2)
    assert [q.text for q in second] == [f"问题{n}" for n in range(4, -1, -1)]


def test_approved_examples_join_the_training_input_and_nlu_data_stays_as_it_is(tmp_path):
    settings = Settings.from_env({})
    catalogue = load_catalogue(settings.catalogue_dir)
    before = _digest(settings.nlu_data_dir)
    plain = build_training_input(catalogue, settings.nlu_data_dir, tmp_path / "plain",
                                 settings.nlu_python)
    taught = build_training_input(
        catalogue, settings.nlu_data_dir, tmp_path / "taught", settings.nlu_python, taught=[
            Taught("ask_materials", "dibao", "吃低保要拿些啥子证件嘛"),
            Taught("ask_office_hours", None, "赶场天开门不嘛"),
            Taught("ask_fee", "no_such_matter", "收钱不")])  # a matter since removed: left out
    assert _digest(settings.nlu_data_dir) == before
    assert taught.fingerprint != plain.fingerprint  # the next publication retrains
    data = yaml.safe_load((taught.data / "nlu.yml").read_text(encoding="utf-8"))
    examples = {(block["intent"], item["text"]): item.get("metadata", {}).get("matter")
                for block in data["nlu"] if "intent" in block for item in block["examples"]}
    assert examples[("ask_materials", "吃低保要拿些啥子证件嘛")] == "dibao"
    assert examples[("ask_office_hours", "赶场天开门不嘛")] == "-"
    assert not any(text == "收钱不" for _, text in examples)


def _digest(directory):
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def clock():
    return Clock(MONDAY_MORNING)


@pytest.fixture
async def console(sessions, real_redis, tmp_path, clock):
    """The web service with its console; an NLU address nothing here calls."""
    base = dataclasses.replace(Settings.from_env({}), nlu_url="http://127.0.0.1:9",
                               nlu_token=Secret("unused"), notice_worker=False,
                               database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files",
                               nlu_build_dir=tmp_path / "build")
    client = TestClient(TestServer(create_app(wechat_settings(base), clock=clock)))
    await client.start_server()
    accounts = client.server.app[CONSOLE].accounts
    await accounts.add("li", "李四", "clerk", "civil", "password-li")
    await accounts.add("wang", "王主任", "director", None, "password-wang")
    await accounts.add("admin1", "管理员甲", "admin", None, "password-admin")
    yield client
    await client.close()


async def signed_in(console, username):
    clerk = Clerk(console)
    await clerk.login(username, f"password-{username.rstrip('1')}")
    return clerk


async def test_a_clerk_teaches_a_question_and_an_admin_approves_it_for_the_next_publication(
        console, sessions, tmp_path):
    services = console.server.app[CONSOLE]
    for text in ("吃低保要拿些啥子证件嘛", "吃低保要拿些啥子证件嘛？", "赶场天开门不嘛"):
        await services.review.note(text, "not_understood", MONDAY_MORNING)
    li, admin, director = (await signed_in(console, "li"), await signed_in(console, "admin1"),
                           await signed_in(console, "wang"))
    try:
        page = await li.get("/console/review")
        rows = re.findall(r'<tr class="review-row" id="question-(\d+)".*?</tr>', page, re.S)
        assert len(rows) == 2 and "not_understood" not in shown_text(page)  # grouped, in words
        first = page.split('class="review-row"')[1]
        assert "吃低保要拿些啥子证件嘛？" in first and '<td class="count">2</td>' in first
        assert "没听懂" in first and "11-23 10:00" in first and 'name="matter"' in first
        assert '<option value="ask_materials">要带什么材料</option>' in page
        await director.get("/console/review", status=403)
        await li.post(f"/console/review/{rows[0]}/teach", status=409, matter="dibao", intent="")
        await li.post(f"/console/review/{rows[0]}/teach", matter="dibao", intent="ask_materials")
        await li.post(f"/console/review/{rows[0]}/teach", status=409, matter="dibao",
                      intent="ask_materials")  # done already
        await services.review.note("吃低保要拿些啥子证件嘛", "not_understood", MONDAY_MORNING)
        page = await li.get("/console/review")  # asked again: taught, it stays off the list
        assert page.count('class="review-row"') == 1 and 'id="pending"' in page
        pending = page.split('id="pending"')[1]
        assert "吃低保要拿些啥子证件嘛？" in pending and "要带什么材料" in pending
        assert "最低生活保障" in pending and "李四" in pending and "等管理员审核" in pending
        example = re.search(r'id="example-(\d+)"', pending).group(1)
        await li.post(f"/console/review/examples/{example}", status=403, decision="approve")
        admin_page = await admin.get("/console/review")
        assert f'id="approve-{example}"' in admin_page and f'id="reject-{example}"' in admin_page
        await admin.post(f"/console/review/examples/{example}", decision="approve")
        await admin.post(f"/console/review/examples/{example}", status=409, decision="reject")
        approved = (await admin.get("/console/review")).split('id="approved"')[1]
        assert "吃低保要拿些啥子证件嘛？" in approved
        audit = shown_text(await admin.get("/console/audit"))
        assert "把问题教给机器人" in audit and "意图：要带什么材料" in audit
        assert "采用例句" in audit and "状态：已采用" in audit
    finally:
        for clerk in (li, admin, director):
            await clerk.close()

    fed = []

    def fake_trainer(training):  # what Rasa would be given; nothing is trained
        fed.append((training.data / "nlu.yml").read_text(encoding="utf-8"))
        return tmp_path / "nlu-fake.tar.gz"

    settings = console.server.app[CONSOLE]
    report = await publish_catalogue(
        dataclasses.replace(Settings.from_env({}), nlu_build_dir=tmp_path / "build"),
        settings.editor, await services.review.taught(), fake_trainer)
    assert "加入了 1 条审核通过的例句" in report and "nlu-fake" in report
    assert "吃低保要拿些啥子证件嘛？" in fed[0] and "赶场天开门不嘛" not in fed[0]


async def test_the_figures_count_only_answered_questions_as_contained(console, real_redis):
    await real_redis.set(keys.QUESTIONS_ON.format(day=TODAY), 8)
    await real_redis.set(keys.ANSWERED_ON.format(day=TODAY), 2)
    director = await signed_in(console, "wang")
    try:
        page = await director.get("/console/figures")
        csv = await director.get("/console/figures.csv")
    finally:
        await director.close()
    assert 'id="questions">8<' in page and 'id="answered">2<' in page
    assert 'id="containment">25%<' in page and "只回菜单、没听懂、转人工的不算" in page
    assert "用办事指南答上,2" in csv and "机器人解决率（只算答上了的）,,25.0%" in csv


async def test_an_admin_edits_a_matter_a_bad_edit_keeps_what_was_typed_and_edits_undo(
        console, sessions):
    admin, li = await signed_in(console, "admin1"), await signed_in(console, "li")
    try:
        await li.get("/console/catalogue/dibao/edit", status=403)
        page = await admin.get("/console/catalogue/dibao/edit")
        form = {key: _field(page, key) for key in (
            "aliases", "materials", "conditions", "time_working_days", "time_note",
            "time_source", "fee", "fee_source", "base")}
        assert "户主和家庭成员户口簿｜原件和复印件｜1｜｜seeds/002:193" in form["materials"]
        assert 'id="save"' in page and 'id="restore-0"' not in page  # the file's is in use

        bad = dict(form, materials=form["materials"] + "\n准生证｜复印本｜两份",
                   aliases="低保\n五保")
        refused = await admin.post("/console/catalogue/dibao/edit", status=400, **bad)
        assert "没有保存，请改一改" in refused
        assert ("材料第5行的原件/复印件：应为 原件 / 复印件 / 原件和复印件,现在是「复印本」"
                in refused)
        assert "材料第5行的份数：份数应为 1 到 20 的整数" in refused
        assert "准生证｜复印本｜两份" in refused and ">低保\n五保</textarea>" in refused  # kept
        assert "material" not in shown_text(refused)  # no field codes

        lint = dict(form, aliases="低保\n低保户\n吃低保\n五保")  # as `bot catalog check` says
        refused = await admin.post("/console/catalogue/dibao/edit", status=400, **lint)
        assert "群众叫法：至少写 5 个群众的叫法,现在 4 个" in refused
        assert "群众叫法「五保」：写在了几个事项里(dibao, wubao)" in refused

        good = dict(form, materials=form["materials"] + "\n户口本首页｜复印件｜1｜｜待核实",
                    time_working_days="20", fee="工本费5元", fee_source="待核实")
        await admin.post("/console/catalogue/dibao/edit", **good)
        saved = await admin.get("/console/catalogue/dibao/edit?saved=1")
        assert "已保存" in saved and "户口本首页｜复印件｜1｜｜待核实" in saved
        stale = await admin.post("/console/catalogue/dibao/edit", status=400, **good)
        assert "刚才有人改过这个事项" in stale  # saved from a page opened before that save
        catalogue = await admin.get("/console/catalogue")
        assert "20个工作日" in catalogue.split("<tr><td>dibao</td>")[1].split("</tr>")[0]

        # another bot worker sharing the database sees the same catalogue
        other = CatalogueEditor(Settings.from_env({}).catalogue_dir, None,
                                MatterRevisions(sessions))
        dibao = (await other.catalogue()).get("dibao")
        assert dibao.time_limit.working_days == 20 and dibao.fee.text == "工本费5元"
        assert dibao.materials[-1].name == "户口本首页" and dibao.materials[-1].to_confirm

        current = re.search(r'name="base" value="(\d+)"', saved).group(1)
        refused = await admin.post("/console/catalogue/dibao/restore", status=409,
                                   revision="0", base="0")  # from a page before the save
        assert "刚才有人改过这个事项" in refused
        await admin.post("/console/catalogue/dibao/restore", revision="0", base=current)
        restored = await admin.get("/console/catalogue/dibao/edit")
        assert "户口本首页" not in _field(restored, "materials")
        newest = restored.split('class="revision-row"')[1]
        assert "（恢复自原始文件）" in newest and "现在用的" in newest
        assert "恢复此版本" in restored.split('class="revision-row"')[2]  # the edit, undone
        assert (await other.catalogue()).get("dibao").time_limit.working_days == 34
        audit = shown_text(await admin.get("/console/audit"))
        assert "修改事项" in audit and "恢复事项的旧版本" in audit
        assert "时限工作日数：34" in audit and "时限工作日数：20" in audit
    finally:
        await admin.close()
        await li.close()
    async with sessions() as session:
        edits = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(("matter.edit", "matter.restore"))).order_by(AuditEntry.id)))
    assert [(e.before["fee"], e.after["fee"]) for e in edits] == [("不收费", "工本费5元"),
                                                                  ("工本费5元", "不收费")]


def _field(page, name):
    textarea = re.search(rf'name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if textarea:
        return _unescape(textarea.group(1))
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    return _unescape(found.group(1)) if found else ""


def _unescape(text):
    import html

    return html.unescape(text)


def test_the_form_reads_back_what_the_file_says():
    from bot.catalogue.editing import fields_of, file_fields

    fields = file_fields(Settings.from_env({}).catalogue_dir, "dibao")
    assert fields_of(form_of(fields)) == {**fields, "to_confirm": False}


async def test_a_worker_starting_trains_on_the_edits_and_examples_the_console_stored(
        sessions, tmp_path):
    from bot.cli import _console_inputs

    settings = dataclasses.replace(Settings.from_env({}), database_url=TEST_DATABASE_URL)
    editor = CatalogueEditor(settings.catalogue_dir, None, MatterRevisions(sessions))
    fields, base = await editor.current("dibao")
    await editor.save("dibao", {**form_of(fields), "aliases": form_of(fields)["aliases"]
                                + "\n低保本本"}, "admin1", base)
    review = ReviewService(sessions)
    await review.note("赶场天开门不嘛", "not_understood", MONDAY_MORNING)
    [question], _ = await review.questions(Order.MOST, 1)
    example = await review.propose(question.id, "ask_office_hours", None, "li", {"dibao"})
    await review.decide(example.id, True, "admin1")
    catalogue, taught = await _console_inputs(settings)
    assert "低保本本" in catalogue.get("dibao").aliases
    assert [(t.intent, t.matter_id, t.text) for t in taught] == [
        ("ask_office_hours", None, "赶场天开门不嘛")]
    fresh = dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{tmp_path}/new.db")
    catalogue, taught = await _console_inputs(fresh)  # no database yet: the files alone
    assert "低保本本" not in catalogue.get("dibao").aliases and taught == ()
