"""The clerk-facing edge (issue #11). Finding 2, the window rule at every clerk read and
write: a token or a console login of the social-security window (周五) cannot read or move
the civil window's case, booking, home visit or notice; the civil window's clerk (李四) and
an all-window token can. Finding 8: typed bodies, limits, the CSV export."""

import dataclasses
import json
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.app import create_app
from bot.appointments.home_visits import NewHomeVisit
from bot.appointments.service import BookingRequest, local
from bot.cases.application import MaterialItem, NewCase
from bot.storage.tables import Clerk as ClerkAccount
from bot.storage.tables import Notice, ServiceSlot
from bot.web.clerk_api import CASES, TokenOwner, parse_tokens
from bot.web.clerk_appointments import BOOKINGS, VISITS
from bot.web.clerk_notices import NOTICES
from bot.web.console_base import CONSOLE
from tests.conftest import TEST_DATABASE_URL, Clock
from tests.test_console import MONDAY_MORNING, Clerk
from tests.test_wechat import wechat_settings

LI, ZHOU, WANG = ("li-civil-token-0123456789", "zhou-social-token-0123456789",
                  "wang-every-window-0123456789")
TOKENS = f"李四@civil:{LI},周五@social:{ZHOU},王主任@*:{WANG}"
REFUSED = "这是别的窗口的"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def client(remote_settings, real_redis, sessions, tmp_path):
    settings = dataclasses.replace(wechat_settings(remote_settings), clerk_tokens=TOKENS,
                                   database_url=TEST_DATABASE_URL, files_dir=tmp_path / "files",
                                   sms_log=tmp_path / "sms.log")
    client = TestClient(TestServer(create_app(settings, clock=Clock(MONDAY_MORNING))))
    await client.start_server()
    accounts = client.server.app[CONSOLE].accounts
    await accounts.add("li", "李四", "clerk", "civil", "password-li")
    await accounts.add("zhou", "周五", "clerk", "social", "password-zhou")
    yield client
    await client.close()


@dataclasses.dataclass
class CivilWork:
    receipt: str
    booking: str
    visit: str
    notice: int
    day: str  # the booking's


@pytest.fixture
async def civil(client, sessions):
    """One of each of the civil window's works: a 高龄补贴 case (and its failed notice), a
    低保 booking, a home visit for 高龄补贴."""
    app = client.server.app
    case = await app[CASES].submit(NewCase(
        matter_id="senior_allowance", channel="wechat", user_id="o_civil",
        applicant_name="王秀英", applicant_id_number="11010519491231002X", phone="13800001234",
        village="石桥村", materials=[MaterialItem("身份证", "received", None)]))
    async with sessions() as session:
        slot = await session.scalar(select(ServiceSlot).where(
            ServiceSlot.window == "civil",
            ServiceSlot.starts_at > MONDAY_MORNING + timedelta(days=1)).order_by(
            ServiceSlot.starts_at).limit(1))
    booking = await app[BOOKINGS].book(BookingRequest(slot.id, "o_civil", "dibao", "b1",
                                                      "王秀英", "13800001234"))
    visit = await app[VISITS].request(NewHomeVisit(
        user_id="o_civil", channel="wechat", person_name="王秀英",
        id_number="11010519491231002X", for_self=False, reason="age", age=88,
        matter_id="senior_allowance", purpose="高龄补贴", village="石桥村",
        address="石桥村3组12号", phone="13800001234", preferred=("2026-11-24 am",), key="v1"))
    await app[NOTICES].plan()
    async with sessions.begin() as session:
        notice = await session.scalar(select(Notice.id).where(Notice.kind.like("case%")))
        await session.execute(update(Notice).values(status="failed"))
    return CivilWork(case.receipt_no, booking.booking_no, visit.visit_no, notice,
                     local(slot.starts_at).date().isoformat())


def test_a_token_entry_names_a_window_or_an_account():
    tokens = parse_tokens(TOKENS + ",li:account-token-0123456789")
    assert tokens[LI] == TokenOwner("李四", "civil") and tokens[WANG].window == "*"
    assert tokens["account-token-0123456789"] == TokenOwner("li", None)
    with pytest.raises(ValueError, match="姓名@窗口:令牌"):
        parse_tokens("李四@:short")


async def test_an_account_token_has_the_accounts_window_and_role_while_it_is_active(
        remote_settings, real_redis, sessions, tmp_path):
    tokens = {"li": "li-account-token-0123456789", "wang": "wang-account-token-0123456789",
              "老张": "old-format-token-0123456789"}
    settings = dataclasses.replace(
        wechat_settings(remote_settings), database_url=TEST_DATABASE_URL,
        files_dir=tmp_path / "files",
        clerk_tokens=",".join(f"{name}:{token}" for name, token in tokens.items()))
    client = TestClient(TestServer(create_app(settings, clock=Clock(MONDAY_MORNING))))
    await client.start_server()
    try:
        accounts = client.server.app[CONSOLE].accounts
        await accounts.add("li", "李四", "clerk", "civil", "password-li")
        await accounts.add("wang", "王主任", "director", None, "password-wang")
        case = await client.server.app[CASES].submit(NewCase(
            matter_id="senior_allowance", channel="wechat", user_id="o_civil",
            applicant_name="王秀英", applicant_id_number="11010519491231002X",
            phone="13800001234", village="石桥村", materials=[]))
        path = f"/api/clerk/cases/{case.receipt_no}"
        await _api(client, "GET", path, tokens["li"], 200)  # li's account: civil
        await _api(client, "GET", path, tokens["老张"], 403)  # no account: the general desk
        await _api(client, "GET", path, tokens["wang"], 200)  # a director reads…
        moved = await _api(client, "POST", f"{path}/moves", tokens["wang"], 403, to="reviewing")
        assert moved["error"] == "您的角色不能做这件事"  # …and does not move
        async with sessions.begin() as session:
            await session.execute(update(ClerkAccount).where(ClerkAccount.username == "li")
                                  .values(active=False))
        await _api(client, "GET", path, tokens["li"], 401)  # a disabled account's token
    finally:
        await client.close()


async def _api(client, method, path, token, status, **body):
    response = await client.request(method, path, headers=bearer(token),
                                    **({"json": body} if body else {}))
    answer = await response.json()
    assert response.status == status, (path, response.status, answer)
    return answer


async def test_api_reads_show_only_the_clerks_window(client, civil):
    for path in (f"/api/clerk/cases/{civil.receipt}", "/api/clerk/bookings?window=civil"):
        assert REFUSED in (await _api(client, "GET", path, ZHOU, 403))["error"]
        await _api(client, "GET", path, LI, 200)
        await _api(client, "GET", path, WANG, 200)
    listed = await _api(client, "GET", "/api/clerk/cases", ZHOU, 200)
    assert civil.receipt not in str(listed)
    assert civil.receipt in str(await _api(client, "GET", "/api/clerk/cases", LI, 200))
    day = f"/api/clerk/bookings?date={civil.day}"
    assert civil.booking in str(await _api(client, "GET", day, LI, 200))
    assert [w["window"] for w in (await _api(client, "GET", day, ZHOU, 200))["windows"]] == [
        "social", "general"]
    for path, number in (("/api/clerk/home-visits", civil.visit),
                         ("/api/clerk/notices", f'"id": {civil.notice}')):
        assert number not in str(await _api(client, "GET", path, ZHOU, 200)).replace("'", '"')
        assert number in str(await _api(client, "GET", path, LI, 200)).replace("'", '"')


async def test_api_case_move_is_refused_to_another_window(client, civil):
    path = f"/api/clerk/cases/{civil.receipt}/moves"
    assert REFUSED in (await _api(client, "POST", path, ZHOU, 403, to="reviewing"))["error"]
    assert (await _api(client, "POST", path, LI, 200, to="reviewing"))["status"] == "reviewing"


async def test_api_booking_mark_is_refused_to_another_window(client, civil):
    path = f"/api/clerk/bookings/{civil.booking}/status"
    assert REFUSED in (await _api(client, "POST", path, ZHOU, 403, to="arrived"))["error"]
    assert (await _api(client, "POST", path, LI, 200, to="arrived"))["status"] == "arrived"


async def test_api_home_visit_schedule_is_refused_to_another_window(client, civil):
    path = f"/api/clerk/home-visits/{civil.visit}/schedule"
    body = {"date": "2026-11-24", "half": "am"}
    assert REFUSED in (await _api(client, "POST", path, ZHOU, 403, **body))["error"]
    assert (await _api(client, "POST", path, LI, 200, **body))["status"] == "scheduled"


async def test_api_home_visit_close_is_refused_to_another_window(client, civil):
    path = f"/api/clerk/home-visits/{civil.visit}/status"
    assert REFUSED in (await _api(client, "POST", path, ZHOU, 403, to="cancelled"))["error"]
    assert (await _api(client, "POST", path, WANG, 200, to="cancelled"))["status"] == \
        "cancelled"


async def test_api_notice_retry_is_refused_to_another_window(client, civil):
    path = f"/api/clerk/notices/{civil.notice}/retry"
    assert REFUSED in (await _api(client, "POST", path, ZHOU, 403))["error"]
    assert (await _api(client, "POST", path, LI, 200))["status"] == "pending"


async def _signed_in(client, username):
    clerk = Clerk(client)
    await clerk.login(username, f"password-{username}")
    return clerk


@pytest.fixture
async def zhou(client):
    clerk = await _signed_in(client, "zhou")
    yield clerk
    await clerk.close()


@pytest.fixture
async def li(client):
    clerk = await _signed_in(client, "li")
    yield clerk
    await clerk.close()


async def test_console_booking_mark_is_refused_to_another_window(civil, zhou, li):
    path = f"/console/bookings/{civil.booking}/mark"
    assert REFUSED in await zhou.post(path, status=403, to="arrived")
    await li.post(path, to="arrived")


async def test_console_home_visit_schedule_is_refused_to_another_window(civil, zhou, li):
    path = f"/console/home-visits/{civil.visit}/schedule"
    assert REFUSED in await zhou.post(path, status=403, when="2026-11-24 am")
    await li.post(path, when="2026-11-24 am")


@pytest.mark.parametrize("action", ["move", "contact"])
async def test_console_case_writes_are_refused_to_another_window(civil, zhou, action):
    await zhou.post(f"/console/cases/{civil.receipt}/{action}", status=403, to="reviewing")


@pytest.mark.parametrize("action", ["claim", "reply", "close"])
async def test_console_handoff_writes_are_refused_to_another_window(client, zhou, action):
    opened = await client.server.app[CONSOLE].handoffs.open(
        "o_civil", "wechat", "asked", "senior_allowance", [])
    page = f"/console/handoffs/{opened.handoff_id}"
    await zhou.get(page, status=403)
    await zhou.post(f"{page}/{action}", status=403, text="我来")


async def test_home_visits_are_listed_only_to_their_windows_clerks(civil, zhou, li):
    assert "石桥村3组12号" not in await zhou.get("/console/today")
    assert "石桥村3组12号" in await li.get("/console/today")


# --- finding 8: odd input is refused at the edge, nothing of it stored -----------------------


@pytest.mark.parametrize(("body", "reason"), [
    ({"to": "needs_materials", "missing": "abc"}, "missing：应为列表"),
    ({"to": "completed", "result": {"x": 1}}, "result：应为文字"),
    ({"to": "needs_materials", "missing": ["材料"] * 31}, "missing：项数太多"),
    ({"to": "reviewing", "reason": "长" * 501}, "reason：太长了"),
    ({"to": "reviewing", "actor": "别人"}, "actor：不认识这一项"),
    ({"to": "飞走"}, "to：取值不对"),
])
async def test_a_case_move_of_the_wrong_shape_is_refused_in_chinese(client, civil, body,
                                                                    reason):
    answer = await _api(client, "POST", f"/api/clerk/cases/{civil.receipt}/moves", LI, 400,
                        **body)
    assert reason in answer["error"]
    shown = await _api(client, "GET", f"/api/clerk/cases/{civil.receipt}", LI, 200)
    assert shown["status"] == "accepted" and len(shown["history"]) == 1


async def test_deep_nesting_a_huge_id_and_a_huge_key_are_refused_not_crashed(client, civil):
    deep = "[" * 5000 + "]" * 5000
    for path in (f"/api/clerk/cases/{civil.receipt}/moves", "/api/clerk/notice-preferences",
                 f"/api/clerk/bookings/{civil.booking}/status"):
        response = await client.post(path, data=deep, headers=bearer(LI))
        assert response.status == 400 and "JSON" in (await response.json())["error"]
    await _api(client, "POST", f"/api/clerk/notices/{10 ** 20}/retry", LI, 404)
    await _api(client, "POST", "/api/clerk/notices/-1/retry", LI, 400)
    long_key = await _api(client, "POST", "/api/clerk/notice-preferences", LI, 400,
                          key="k" * 10_000, mode="sms_only")
    assert "key：太长了" in long_key["error"]
    await _api(client, "POST", "/api/clerk/notice-preferences", LI, 400, key="o_x",
               opted_out="yes")
    await _api(client, "POST", "/api/clerk/notice-preferences", LI, 200, key="o_x",
               opted_out=True)


async def test_console_forms_and_paths_have_limits_too(civil, li):
    refused = await li.post(f"/console/cases/{civil.receipt}/move", status=400,
                            to="reviewing", reason="长" * 501)
    assert "reason：太长了" in refused
    await li.post(f"/console/cases/{civil.receipt}/move", status=400, to="飞走")
    await li.get(f"/console/handoffs/{10 ** 20}", status=404)
    await li.post(f"/console/handoffs/{10 ** 20}/reply", status=404, text="您好")


async def test_nul_characters_are_refused_at_the_door_and_nothing_is_stored(client, civil,
                                                                          li):
    moves = f"/api/clerk/cases/{civil.receipt}/moves"
    for body in ({"to": "reviewing", "reason": "核\x00对"},
                 {"to": "needs_materials", "missing": ["户口本\x00"]}):
        refused = await _api(client, "POST", moves, LI, 400, **body)
        assert "空字符" in refused["error"]
    await _api(client, "GET", "/api/clerk/cases?status=accepted%00", LI, 400)
    await _api(client, "GET", "/api/clerk/cases/BM%00", LI, 400)
    assert "空字符" in await li.post(f"/console/cases/{civil.receipt}/move", status=400,
                                  to="reviewing", reason="核\x00对")
    async with li.session.post(client.server.make_url("/console/login"), data={
            "username": "li\x00", "password": "password-li"}) as response:
        assert response.status == 400
    with aiohttp.MultipartWriter("form-data") as multipart:  # the same form, as multipart
        for name, value in (("username", "li\x00"), ("password", "password-li")):
            multipart.append(value).set_content_disposition("form-data", name=name)
    async with li.session.post(client.server.make_url("/console/login"),
                               data=multipart) as response:
        assert response.status == 400 and "空字符" in await response.text()
    as_json = json.dumps({"to": "reviewing", "reason": "核\x00对"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):  # curl -d
        response = await client.post(moves, data=as_json, headers={
            **bearer(LI), "Content-Type": content_type})
        assert response.status == 400 and "空字符" in (await response.json())["error"]
    shown = await _api(client, "GET", f"/api/clerk/cases/{civil.receipt}", LI, 200)
    assert shown["status"] == "accepted" and len(shown["history"]) == 1


async def test_a_row_id_of_thousands_of_digits_is_not_found_not_a_crash(client, li):
    await _api(client, "POST", f"/api/clerk/notices/{'9' * 5000}/retry", LI, 404)
    await li.get(f"/console/handoffs/{'9' * 5000}", status=404)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01",
                                 "20261130", "2026-W48-1"])
async def test_dates_out_of_any_calendar_are_refused_in_chinese(client, civil, li, day):
    for path in (f"/api/clerk/bookings?date={day}", f"/api/clerk/home-visits?date={day}"):
        assert "YYYY-MM-DD" in (await _api(client, "GET", path, LI, 400))["error"]
    await _api(client, "POST", f"/api/clerk/home-visits/{civil.visit}/schedule", LI, 400,
               date=day, half="am")
    assert "时间格式" in await li.post(f"/console/home-visits/{civil.visit}/schedule",
                                    status=400, when=f"{day} am")


@pytest.mark.parametrize(("period", "reason"), [
    ("from=0001-01-01&to=2026-11-30", "2000—2100"),
    ("from=2026-11-01&to=9999-12-31", "2000—2100"),
    ("from=2025-11-01&to=2026-11-30", "最长 366 天"),
    ("from=2026-11-30&to=2026-11-01", "不能早于开始"),
])
async def test_the_figures_period_is_a_real_one_of_at_most_a_year(client, period, reason):
    await client.server.app[CONSOLE].accounts.add("wang", "王主任", "director", None,
                                                  "password-wang")
    director = Clerk(client)
    try:
        await director.login("wang", "password-wang")
        for page in ("/console/figures", "/console/figures.csv"):
            assert reason in await director.get(f"{page}?{period}", status=400)
        assert "办件量" in await director.get("/console/figures?from=2025-12-01&to=2026-11-30")
    finally:
        await director.close()


async def test_the_csv_export_does_not_carry_formulas(client, sessions):
    await client.server.app[CASES].submit(NewCase(
        matter_id="dibao", channel="wechat", user_id="o_csv", applicant_name="王秀英",
        applicant_id_number="11010519491231002X", phone="13800001234",
        village='=HYPERLINK("http://evil.example","点我")', materials=[]))
    await client.server.app[CONSOLE].accounts.add("wang", "王主任", "director", None,
                                                  "password-wang")
    director = Clerk(client)
    try:
        await director.login("wang", "password-wang")
        report = await director.get("/console/figures.csv?from=2026-11-01&to=2026-11-30")
    finally:
        await director.close()
    assert '按村,"\'=HYPERLINK(""http://evil.example"",""点我"")",1' in report
    assert "\n=" not in report and ",=" not in report
