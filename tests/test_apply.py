"""Applying from the phone over /wechat, on real PostgreSQL: the 高龄补贴 story of issue #4."""

import dataclasses
import io
import itertools
import time

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.app import create_app
from bot.storage.tables import AuditEntry, Case, DomainEvent, StoredFile
from bot.web.simulator import FAKE_WECHAT_URL
from tests.conftest import TEST_DATABASE_URL
from tests.media import paper_photo
from tests.test_wechat import post, reply_text, signed_query, text_xml, wechat_settings

JPEG = paper_photo().content  # a good photo of a paper: the photo check passes it
ID_NUMBER = "11010519491231002X"
CLERK_TOKEN = "clerk-token-for-tests-0123456789"
CLERK = {"Authorization": f"Bearer {CLERK_TOKEN}"}


async def clerk_moves(client, receipt_no, status=200, **body):
    response = await client.post(f"/api/clerk/cases/{receipt_no}/moves", json=body,
                                 headers=CLERK)
    assert response.status == status, await response.text()
    return await response.json()


@pytest.fixture
async def app_client(remote_settings, real_redis, sessions, tmp_path):
    # A test types faster than any villager: the per-user rate limit is lifted.
    settings = dataclasses.replace(wechat_settings(remote_settings), wechat_rate_limit=1000,
                                   database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files",
                                   clerk_tokens=f"民政窗口李四@civil:{CLERK_TOKEN}")
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client, settings
    await client.close()


# One sequence for every phone: two phones made in the same millisecond once shared MsgIds.
MESSAGE_IDS = itertools.count(int(time.time() * 1000))


class Phone:
    """One villager's WeChat: text messages and photos, as WeChat pushes them."""

    def __init__(self, client, user):
        self.client, self.user = client, user

    async def says(self, text):
        msg_id = next(MESSAGE_IDS)
        _, body = await post(self.client, text_xml(text, user=self.user, msg_id=msg_id))
        return reply_text(body)

    async def sends_photo(self, content=JPEG, content_type="image/jpeg"):
        media_id = await self._upload(content, content_type)
        return await self._push("image", f"<PicUrl><![CDATA[http://x]]></PicUrl>"
                                         f"<MediaId><![CDATA[{media_id}]]></MediaId>")

    async def sends_voice(self, content, recognition=""):
        """A voice message: AMR, with WeChat's speech recognition when it made one."""
        media_id = await self._upload(content, "audio/amr")
        return await self._push("voice", f"<MediaId><![CDATA[{media_id}]]></MediaId>"
                                         f"<Format><![CDATA[amr]]></Format>"
                                         f"<Recognition><![CDATA[{recognition}]]></Recognition>")

    async def _upload(self, content, content_type):
        fake = self.client.server.app[FAKE_WECHAT_URL]
        async with ClientSession() as session, session.post(
                f"{fake}/fake/media", data=io.BytesIO(content),
                headers={"Content-Type": content_type}) as response:
            return (await response.json())["media_id"]

    async def sends_location(self, latitude, longitude, label):
        return await self._push("location", f"<Location_X>{latitude}</Location_X><Location_Y>"
                                            f"{longitude}</Location_Y><Scale>15</Scale>"
                                            f"<Label><![CDATA[{label}]]></Label>")

    async def _push(self, kind, fields):
        xml = (f"<xml><ToUserName><![CDATA[gh_center]]></ToUserName><FromUserName>"
               f"<![CDATA[{self.user}]]></FromUserName><CreateTime>{int(time.time())}"
               f"</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{fields}"
               f"<MsgId>{next(MESSAGE_IDS)}</MsgId></xml>")
        _, body = await post(self.client, xml, signed_query())
        return reply_text(body)


async def fill_in_applicant(phone):
    assert "给谁申请" in await phone.says("我要申请高龄补贴")
    assert "姓名" in await phone.says("1")
    assert "身份证号" in await phone.says("王秀英")
    assert "校验不通过" in await phone.says("110105194912310021")  # one digit wrong
    answer = await phone.says(ID_NUMBER)
    assert "1101**********002X" in answer and ID_NUMBER not in answer
    assert "电话号码不对" in await phone.says("1380000")
    assert "哪个村" in await phone.says("13800001234")
    return await phone.says("石桥村")


async def test_everything_said_at_once_is_not_asked_again(app_client):
    client, _ = app_client
    daughter = Phone(client, "o_all_at_once")
    asked = await daughter.says(f"我要给我娘王秀英申请高龄补贴，她88了，身份证{ID_NUMBER}，"
                                "电话13812345678，红旗村")
    assert "代办人" in asked and "申请人的姓名" not in asked  # the one thing not said
    first_item = await daughter.says("我叫李红")
    assert "一共4项" in first_item and "第1/4项" in first_item  # 授权委托书 too
    for _ in range(4):
        summary = await daughter.says("1")
    assert "申请人：王秀英" in summary and "代办人：李红" in summary
    assert "村（社区）：红旗村" in summary and "138****5678" in summary
    corrected = await daughter.says("电话错了，是13912345678")
    assert "139****5678" in corrected and "回复 1 提交申请" in corrected
    receipt = await daughter.says("1")
    assert "申请已受理" in receipt
    receipt_no = receipt.split("受理编号：")[1].split("\n")[0]
    shown = await (await client.get(f"/api/clerk/cases/{receipt_no}", headers=CLERK)).json()
    assert (shown["applicant"], shown["agent"], shown["relation"]) == ("王秀英", "李红", "母亲")


async def test_a_step_back_asks_the_last_fact_again(app_client):
    client, _ = app_client
    phone = Phone(client, "o_step_back")
    assert "给谁申请" in await phone.says("我要申请高龄补贴")
    assert "这一步退不回去了" in await phone.says("上一步")  # nothing told yet
    await phone.says("1")
    await phone.says("王秀英")
    assert "联系电话" in await phone.says(ID_NUMBER)
    again = await phone.says("上一步")
    assert "这一项重新填" in again and "身份证号" in again
    assert "1101**********002X" in await phone.says(ID_NUMBER)


async def test_facts_told_in_pieces_in_any_order(app_client):
    client, _ = app_client
    son = Phone(client, "o_in_pieces")
    assert "给谁申请" in await son.says("我想申请高龄补贴")
    assert "代办人" in await son.says("帮我爸办的")
    assert "申请人的姓名" in await son.says("张明")
    # name and ID in one message, then the village before the phone it was asked
    assert "联系电话" in await son.says(f"张德明 {ID_NUMBER}")
    assert "联系电话" in await son.says("石桥村")
    assert "一共4项" in await son.says("13800001234")


async def test_apply_with_photos_then_follow_the_case(app_client, sessions):
    client, settings = app_client
    phone = Phone(client, "o_daughter")
    first_item = await fill_in_applicant(phone)
    assert "第1/3项" in first_item and "户口簿或居民身份证" in first_item

    assert "收到【老人户口簿或居民身份证】的照片" in await phone.sends_photo()
    missing = await phone.says("还差什么")
    assert "两寸近期免冠照片" in missing and "户口簿" not in missing
    side = await phone.says("你们几点上班")  # a side question in the middle
    assert "上班时间" in side and "（接着申请）第2/3项" in side
    assert "第3/3项" in await phone.says("1")  # the photos: bring them to the window
    summary = await phone.says("2")  # no approval form yet
    assert "请核对" in summary and "王秀英" in summary and "138****1234" in summary
    assert ID_NUMBER not in summary

    receipt = await phone.says("1")
    assert "申请已受理" in receipt and "前办结" in receipt  # the guide's 30 days
    assert "到窗口时请带上：两寸近期免冠照片" in receipt
    assert "还缺：高龄老人生活补贴审批表" in receipt  # answered 「没有」: said plainly
    receipt_no = receipt.split("受理编号：")[1].split("\n")[0]

    async with sessions() as session:
        case = await session.scalar(select(Case).where(Case.receipt_no == receipt_no))
        assert (case.applicant_id_number, case.phone) == (ID_NUMBER, "13800001234")
        files = list(await session.scalars(select(StoredFile)))
        assert len(files) == 1
        assert (settings.files_dir / files[0].location).read_bytes() == JPEG
        assert files[0].size == len(JPEG) and files[0].content_type == "image/jpeg"

    listed = await (await client.get("/api/clerk/cases", headers=CLERK)).json()
    assert listed["cases"][0]["receipt_no"] == receipt_no
    assert listed["cases"][0]["id_number"] == "1101**********002X"  # masked in lists
    await clerk_moves(client, receipt_no, to="reviewing")
    await clerk_moves(client, receipt_no, to="needs_materials",
                      missing=["高龄老人生活补贴审批表"])
    progress = await phone.says("办到哪了")
    assert receipt_no in progress and "已受理 → " in progress
    assert "请补交：高龄老人生活补贴审批表" in progress
    await clerk_moves(client, receipt_no, to="reviewing", reason="已补齐")
    await clerk_moves(client, receipt_no, to="reported")
    await clerk_moves(client, receipt_no, to="completed", result="可领取")
    done = await phone.says("我的高龄补贴办好了没")
    assert "已办结（可领取）" in done and "待补正" in done
    # a matter they have no case of here: what the guide promises, how to find theirs
    other = await phone.says("我申请的低保一直没消息")
    assert "没查到您用这个微信号申请的【最低生活保障(低保)】" in other
    assert "34个工作日" in other and "BM开头" in other and "转人工" in other
    assert "其他事项" in other and receipt_no not in other
    shown = await (await client.get(f"/api/clerk/cases/{receipt_no}", headers=CLERK)).json()
    assert [h["to"] for h in shown["history"]][-1] == "completed"
    assert shown["history"][2]["by"] == "民政窗口李四"
    async with sessions() as session:
        events = list(await session.scalars(select(DomainEvent)))
        assert [e.payload["to"] for e in events][-2:] == ["reported", "completed"]


async def test_the_clerk_api_refuses_what_it_should(app_client):
    client, _ = app_client
    assert (await client.get("/api/clerk/cases")).status == 401
    wrong = {"Authorization": "Bearer not-a-clerk-token-at-all"}
    assert (await client.get("/api/clerk/cases", headers=wrong)).status == 401
    phone = Phone(client, "o_api")
    await fill_in_applicant(phone)
    for _ in range(3):
        await phone.says("1")
    receipt_no = (await phone.says("1")).split("受理编号：")[1].split("\n")[0]
    illegal = await clerk_moves(client, receipt_no, 409, to="completed", result="可领取")
    assert "不能受理后直接办结" in illegal["error"]
    assert "一次性告知" in (await clerk_moves(client, receipt_no, 409,
                                             to="needs_materials"))["error"]
    assert "理由" in (await clerk_moves(client, receipt_no, 409, to="rejected"))["error"]
    await clerk_moves(client, "BM000000ZZZZZ", 404, to="reviewing")
    await clerk_moves(client, receipt_no, 400, to="flying")
    response = await client.get("/api/clerk/cases?status=nonsense", headers=CLERK)
    assert response.status == 400


async def applied(phone):
    """The villager applies (phone 13800001234, the photos brought later): the receipt no."""
    await fill_in_applicant(phone)
    for _ in range(3):
        await phone.says("1")
    receipt = await phone.says("1")
    return receipt.split("受理编号：")[1].split("\n")[0]


async def test_a_receipt_number_is_shown_only_to_its_owner(app_client):
    client, _ = app_client
    owner = Phone(client, "o_owner")
    receipt_no = await applied(owner)

    stranger = Phone(client, "o_stranger")
    assert "后4位" in await stranger.says(receipt_no)
    assert "对不上" in await stranger.says("9999")
    assert "后4位" in await stranger.says(receipt_no)
    assert "【高龄补贴(高龄老人生活补贴)】" in await stranger.says("1234")  # knows the phone
    for _ in range(3):
        await stranger.says(receipt_no)
        await stranger.says("0000")
    assert "次数太多" in await stranger.says(receipt_no)


async def locks(sessions):
    async with sessions() as session:
        return [(e.action, e.target) for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "receipt.locked"))]


async def test_looking_up_ones_own_case_between_guesses_does_not_reset_them(app_client,
                                                                            sessions):
    client, _ = app_client
    receipt_no = await applied(Phone(client, "o_owner"))
    guesser = Phone(client, "o_guesser")
    own_no = await applied(guesser)
    replies = []
    for digits in ("0000", "0001", "0002"):
        assert own_no in await guesser.says(own_no)  # their own case: shown, counts nothing
        assert "后4位" in await guesser.says(receipt_no)
        replies.append(await guesser.says(digits))
    assert ["对不上" in r for r in replies] == [True, True, False]
    assert "次数太多" in replies[-1] and "1小时后再试" in replies[-1]
    assert own_no in await guesser.says(own_no)  # still theirs to see
    refused = await guesser.says(receipt_no)
    assert "次数太多" in refused and "后4位" not in refused
    assert receipt_no not in await guesser.says("1234")  # the right digits, too late
    assert await locks(sessions) == [("receipt.locked", "user:wechat:o_guesser")]


async def test_one_receipt_guessed_at_from_many_accounts_is_locked(app_client, sessions):
    client, _ = app_client
    owner = Phone(client, "o_owner")
    receipt_no = await applied(owner)
    for n in range(5):  # each account guesses once: none of them reaches its own limit
        guesser = Phone(client, f"o_guesser{n}")
        assert "后4位" in await guesser.says(receipt_no)
        await guesser.says(f"000{n}")
    late = Phone(client, "o_guesser5")
    refused = await late.says(receipt_no)
    assert "次数太多" in refused and "24小时后再试" in refused
    assert receipt_no not in await late.says("1234")
    assert receipt_no in await owner.says(receipt_no)  # its owner still sees it
    assert await locks(sessions) == [("receipt.locked", f"receipt:{receipt_no}")]


async def test_bad_photos_are_refused_and_the_item_asked_again(app_client):
    client, _ = app_client
    phone = Phone(client, "o_photos")
    await fill_in_applicant(phone)
    big = await phone.sends_photo(b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024))
    assert "太大" in big and "第1/3项" in big
    not_image = await phone.sends_photo(b"MZ this is a program", "application/octet-stream")
    assert "只能收照片" in not_image and "第1/3项" in not_image


async def test_a_refused_photo_keeps_the_one_waiting_for_1_or_2(app_client, sessions):
    client, _ = app_client
    phone = Phone(client, "o_photo_waiting")
    await fill_in_applicant(phone)
    assert "1 重拍 2 就用这张" in await phone.sends_photo(paper_photo("blurred").content)
    big = await phone.sends_photo(b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024))
    assert "太大" in big and "上一张还留着" in big and "1 重拍 2 就用这张" in big
    not_image = await phone.sends_photo(b"MZ this is a program", "application/octet-stream")
    assert "只能收照片" in not_image and "1 重拍 2 就用这张" in not_image
    kept = await phone.says("2")
    assert "就用这张" in kept and "第2/3项" in kept
    assert "第3/3项" in await phone.says("1")
    assert "1. 老人户口簿或居民身份证：已拍照" in await phone.says("2")
    assert "申请已受理" in await phone.says("1")
    async with sessions() as session:
        blurred = await session.scalar(select(StoredFile))
        case = await session.scalar(select(Case).options(selectinload(Case.materials)))
    assert blurred.photo_defects == "blurred"
    assert case.materials[0].file_id == blurred.id  # the blurred one, kept with 2


async def test_a_blurred_photo_gets_its_hint_and_a_turned_one_is_stored_upright(
        app_client, sessions):
    client, settings = app_client
    phone = Phone(client, "o_photo_check")
    await fill_in_applicant(phone)
    hint = await phone.sends_photo(paper_photo("blurred").content)
    assert "照片有点糊，请拿稳手机、对好焦再拍一张" in hint and "1 重拍 2 就用这张" in hint
    assert "第2/3项" not in hint  # nothing kept yet
    assert "请重拍一张" in await phone.says("1")
    turned = paper_photo("rotated")
    kept = await phone.sends_photo(turned.content)  # the retake, taken on its side
    assert "已帮您转正" in kept and "收到【老人户口簿或居民身份证】的照片" in kept
    assert "太暗了，请到亮的地方再拍一张" in await phone.sends_photo(paper_photo("dark").content)
    assert "第3/3项" in await phone.says("2")  # 就用这张
    await phone.says("2")
    assert "申请已受理" in await phone.says("1")
    async with sessions() as session:
        blurred, upright, dark = list(await session.scalars(
            select(StoredFile).order_by(StoredFile.id)))
        case = await session.scalar(select(Case).options(selectinload(Case.materials)))
    assert [m.file_id for m in case.materials] == [upright.id, dark.id, None]
    assert (blurred.photo_defects, upright.photo_defects, dark.photo_defects) == (
        "blurred", "rotated", "dark")
    stored = Image.open(io.BytesIO((settings.files_dir / upright.location).read_bytes()))
    as_taken = Image.open(io.BytesIO(turned.content)).rotate(turned.turn, expand=True)
    assert ImageOps.exif_transpose(stored).tobytes() == as_taken.tobytes()


async def test_cancel_in_the_middle_deletes_the_draft(app_client):
    client, _ = app_client
    phone = Phone(client, "o_cancel")
    await fill_in_applicant(phone)
    assert "确定不申请了吗" in await phone.says("算了")  # one word throws nothing away
    assert "好的，接着填。第1/3项" in await phone.says("2")
    assert "确定不申请了吗" in await phone.says("不办了")
    assert "申请已取消" in await phone.says("1")
    assert "还没到交材料" not in await phone.says("还差什么")  # no draft any more


async def test_the_villager_hands_in_what_the_clerk_asked_for(app_client):
    client, _ = app_client
    phone = Phone(client, "o_supplement")
    assert "没有需要补交" in await phone.says("补交")
    await fill_in_applicant(phone)
    for _ in range(3):
        await phone.says("1")
    receipt_no = (await phone.says("1")).split("受理编号：")[1].split("\n")[0]
    await clerk_moves(client, receipt_no, to="reviewing")
    before = await clerk_moves(client, receipt_no, to="needs_materials",
                               missing=["高龄老人生活补贴审批表", "老人本人银行卡或惠农一卡通"])
    assert "发“补交”" in await phone.says("办到哪了")

    assert "补交第1/2项：高龄老人生活补贴审批表" in await phone.says("补交")
    assert "补交第2/2项" in await phone.sends_photo()
    done = await phone.sends_photo(JPEG + b"card")
    assert "补交好了" in done and "审核中" in done
    after = await (await client.get(f"/api/clerk/cases/{receipt_no}", headers=CLERK)).json()
    assert after["status"] == "reviewing"
    assert after["history"][-1]["by"] == "申请人"
    assert [m["state"] for m in after["materials"][-2:]] == ["received", "received"]
    assert after["due_date"] >= before["due_date"]
