"""The booking form and the changing flow on their own, against in-memory services and the
sample center's rules: conversations as tables of what the villager says and what the reply
must show. (The same flows over /wechat on PostgreSQL are tests/test_booking_chat.py.)"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import SimpleNamespace

import pytest

from bot.appointments.bookings import SlotTaken
from bot.appointments.rules import load_booking_rules
from bot.appointments.service import BookingRequest, Offer
from bot.chinatime import CHINA
from bot.config import ROOT
from bot.flows import END, booking_changes
from bot.flows import booking as booking_flow
from bot.flows.booking import Appointments
from tests.flows.conversation import play

RULES = load_booking_rules(ROOT / "catalogue")
TODAY = date(2026, 11, 23)  # a Monday; the Saturday is 11月28日


def _slot(slot_id: int, day: date, hour: int) -> SimpleNamespace:
    kind = "extended" if day.weekday() >= 5 else "regular"
    return SimpleNamespace(id=slot_id, starts_at=datetime.combine(day, time(hour), CHINA),
                           kind=kind)


@dataclass
class InMemoryBookings:
    """Two free slots on the first day asked; the first one taken once if `race` is set."""

    rules: object = RULES
    race: bool = False
    booked: list[BookingRequest] = field(default_factory=list)
    slots: dict[int, SimpleNamespace] = field(default_factory=dict)

    def today(self) -> date:
        return TODAY

    async def offer(self, window, when) -> Offer:
        base = 10 * when.first.day
        found = (_slot(base + 1, when.first, 9), _slot(base + 2, when.first, 10))
        self.slots.update({s.id: s for s in found})
        return Offer(found)

    async def bookings_of(self, user_id):
        return [SimpleNamespace(booking_no=f"YY{n}", matter_id=r.matter_id, name=r.name,
                                phone=r.phone, person_name=r.person_name,
                                relation=r.relation, slot=self.slots[r.slot_id])
                for n, r in enumerate(self.booked, 1)]

    async def book(self, request: BookingRequest):
        if self.race:
            self.race = False
            raise SlotTaken
        self.booked.append(request)
        return SimpleNamespace(booking_no=f"YY{len(self.booked)}",
                               slot=self.slots[request.slot_id])

    async def cancel(self, number, user_id):
        self.booked = [r for n, r in enumerate(self.booked, 1) if f"YY{n}" != number]
        return SimpleNamespace(status="cancelled")


class NoVisits:
    async def visits_of(self, user_id):
        return []


def desk(race: bool = False) -> Appointments:
    return Appointments(bookings=InMemoryBookings(race=race), visits=NoVisits(),
                        phone="0000-1234567")


DISABILITY_CARD = {"matter": "disability_certificate"}

CONVERSATIONS = {
    "everything at once: the times, then the confirmation": (
        "帮我妈王秀英约周六上午办残疾证，我叫李红，电话13800001234", [
            ("1", ("1. 11月28日（周六）上午9:00（延时服务）", "为谁办：母亲 王秀英",
                   "姓名：李红", "138****1234")),
            ("1", ("回复 1 确认预约", "预约成功！预约号：YY1", "请带齐【残疾人证】的材料")),
        ]),
    "in pieces and out of order, with a correction": (
        "想预约办残疾证", [
            ("我叫李红，电话13800001234", ("哪天来", "已记下：李红，138****1234", "哪天来")),
            ("是给我爸办的", ("哪天来", "已记下：父亲", "哪天来")),
            ("周六上午", ("哪天来", "1. 11月28日（周六）上午9:00")),
            ("10点那个", ("这些时间可以约", "时间：11月28日（周六）上午10:00", "为谁办：父亲")),
            ("电话错了，是13912345678", ("请核对", "请核对", "139****5678", "姓名：李红")),
            ("名字写错了，是李洪", ("139****5678", "请核对", "姓名：李洪")),
            ("姓名改成李红", ("姓名：李洪", "请核对", "姓名：李红")),
            ("改成周日", ("139****5678", "11月29日（周日）上午9:00")),
            ("第一个", ("这些时间可以约", "时间：11月29日（周日）上午9:00", "139****5678")),
            ("1", ("回复 1 确认预约", "预约成功！预约号：YY1")),
        ]),
    "the contact with the chosen time, or half of it": (
        "预约残疾证周六", [
            ("第二个 李红", ("1. 11月28日（周六）上午9:00", "已记下姓名李红，请再发手机号")),
            ("13800001234", ("请再发手机号", "请核对", "姓名：李红", "138****1234")),
            ("1", ("请核对", "预约成功")),
        ]),
    "a bare name only where a name is asked, a day is no name, a label is no name": (
        "约周六办残疾证", [
            ("1", ("上午9:00", "请发来办事人的姓名和手机号")),
            ("明天", ("姓名和手机号", "11月24日（周二）上午9:00")),
            ("2", ("这些时间可以约", "请发来办事人的姓名和手机号")),
            ("电话13800001234，李红", ("姓名和手机号", "姓名：李红", "138****1234")),
        ]),
    "a contact before the choice keeps the times": (
        "约周六办残疾证", [
            ("李红 13800001234", ("上午9:00", "已记下：李红，138****1234", "1. 11月28日（周六）")),
            ("1", ("1. 11月28日（周六）", "请核对", "姓名：李红")),
        ]),
    "where the contact is asked, any name beside the phone": (
        "约周六办残疾证", [
            ("1", ("上午9:00", "请发来办事人的姓名和手机号")),
            ("聂红 13800001234", ("姓名和手机号", "姓名：聂红", "138****1234")),
        ]),
    "an ID number is not the phone": (
        "约周六办残疾证", [
            ("1", ("上午9:00", "请发来办事人的姓名和手机号")),
            ("李红，身份证110101199001011234，电话13800001234",
             ("姓名和手机号", "姓名：李红", "138****1234")),
        ]),
}


@pytest.mark.parametrize("name", CONVERSATIONS)
async def test_booking_conversations(name):
    first, turns = CONVERSATIONS[name]
    services = desk()
    state, slots = await play(booking_flow, first, DISABILITY_CARD, turns, services)
    if state == END:
        [booked] = services.bookings.booked
        assert (booked.name, booked.phone) == ("李红", slots["phone"])
        assert booked.matter_id == "disability_certificate"


async def test_the_first_message_is_not_asked_again():
    """Everything said at once: the first reply offers times, the second confirms."""
    services = desk()
    first = "帮我妈王秀英约周六上午办残疾证，我叫李红，电话13800001234"
    state, _ = await play(booking_flow, first, DISABILITY_CARD, [
        ("1", ("回复数字选一个", "请核对")),
        ("1", ("请核对", "预约成功")),
    ], services)
    [booked] = services.bookings.booked
    assert (booked.person_name, booked.relation, booked.name) == ("王秀英", "母亲", "李红")
    assert state == END


async def test_a_slot_taken_meanwhile_offers_others_and_keeps_the_contact():
    services = desk(race=True)
    await play(booking_flow, "周六约残疾证，我叫李红 13800001234", DISABILITY_CARD, [
        ("1", ("上午9:00", "请核对")),
        ("1", ("请核对", "刚约满了", "1. 11月28日（周六）上午9:00")),
        ("2", ("刚约满了", "请核对", "138****1234")),
        ("1", ("请核对", "预约成功")),
    ], services)
    assert len(services.bookings.booked) == 1


async def test_another_time_unchooses_the_time():
    services = desk()
    state, slots = await play(booking_flow, "约周六办残疾证 李红 13800001234", DISABILITY_CARD, [
        ("1", ("上午9:00", "请核对")),
        ("2", ("请核对", "哪天来")),
    ], services)
    assert state == "day" and booking_flow.remaining(slots).startswith("还没选时间")


async def test_moving_a_booking_keeps_who_and_asks_only_the_time():
    services = desk()
    await play(booking_flow, "帮我妈王秀英约周六办残疾证，我叫李红，电话13800001234",
               DISABILITY_CARD, [("1", ("上午9:00", "请核对")), ("1", ("请核对", "YY1"))],
               services)
    state, _ = await play(booking_changes, "改预约", {}, [
        ("2", ("1. 取消这个预约", "改到哪天")),
        ("周日", ("改到哪天", "11月29日（周日）上午9:00")),
        ("1", ("这些时间可以约", "为谁办：母亲 王秀英", "姓名：李红")),
        ("1", ("请核对", "改好了！原来的预约 YY1 已取消")),
    ], services)
    assert state == END and services.bookings.booked[-1].replaces == "YY1"


async def test_cancelling_is_asked_once_more():
    services = desk()
    await play(booking_flow, "约周六办残疾证 李红 13800001234", DISABILITY_CARD,
               [("1", ("上午9:00", "请核对")), ("1", ("请核对", "YY1"))], services)
    state, _ = await play(booking_changes, "取消预约", {}, [
        ("1", ("1. 取消这个预约", "确定要取消 YY1 吗")),
        ("1", ("确定要取消", "已取消预约 YY1")),
    ], services)
    assert state == END and services.bookings.booked == []


@pytest.mark.parametrize(("state", "text", "answers"), [
    ("day", "我叫李红 13800001234", True),
    ("day", "低保要带什么材料", False),
    ("contact", "周六开门吗", False),
    ("confirm", "电话错了，是13912345678", True),
    ("confirm", "名字是王秀英", True),
    ("confirm", "要带什么材料吗", False),
    ("day", "需要本人到场不", False),
    ("slot", "我爸能代办吗？", False),
    ("contact", "下午几点下班", False),
    ("confirm", "我妈本人来不了怎么办", False),
    ("day", "周六上午能办不", True),
    ("confirm", "名字错了，是李洪", True),
])
def test_what_counts_as_an_answer(state, text, answers):
    assert booking_flow.looks_like_answer(state, booking_flow.Kind.TEXT, text) is answers
