"""The home-visit flow on its own, against in-memory services and the sample center's rules:
conversations as tables of what the villager says and what the reply must show. (The same
flow over /wechat on PostgreSQL is tests/test_booking_chat.py.)"""

from dataclasses import dataclass, field
from datetime import date

import pytest

from bot.appointments.home_visits import HalfDay, NewHomeVisit
from bot.appointments.rules import load_booking_rules
from bot.config import ROOT
from bot.flows import END, FlowContext
from bot.flows import home_visit as home_visit_flow
from bot.flows.booking import Appointments
from bot.messages import Kind
from tests.flows.conversation import CATALOGUE, play, said

RULES = load_booking_rules(ROOT / "catalogue").home_visit
TODAY = date(2026, 11, 23)  # a Monday
MOTHER = "110105193805120023"  # 88 on TODAY
YOUNGER = "110105196001010025"  # 66


@dataclass
class InMemoryVisits:
    rules: object = RULES
    requested: list[NewHomeVisit] = field(default_factory=list)

    async def half_days(self, agent):
        return [HalfDay(date(2026, 11, 24), "am"), HalfDay(date(2026, 11, 25), "pm")]

    async def request(self, new):
        self.requested.append(new)
        return type("Visit", (), {"visit_no": "SM261123TEST1", "village": new.village,
                                  "agent_id": RULES.agent_for(new.village).id})()


class Today:
    def today(self):
        return TODAY


def desk():
    return Appointments(bookings=Today(), visits=InMemoryVisits(), phone="0000-1234567")


MOTHER_ASKS = f"俺娘王秀英88了走不动，身份证{MOTHER}，能上门办高龄补贴不"


def phone_and_time_to(address):
    """The phone, then the first free time: the summary shows the address."""
    return [("13812345678", ("联系电话", "哪些时间")), ("1", ("哪些时间", f"地址：{address}"))]


CONVERSATIONS = {
    "everything at once: the times are the first question": (
        "senior_allowance",
        f"我要给我娘王秀英申请上门办高龄补贴，她88了，身份证{MOTHER}，电话13812345678，石桥村", [
            ("1", ("1. 11月24日（周二）上午", "高龄，88岁", "地址：石桥村")),
            ("名字是王秀英，电话错了，是13912345678", ("请核对", "139****5678")),
            ("1", ("请核对", "编号：SM261123TEST1", "民政干部王芳")),
        ]),
    "in pieces and out of order": (
        None, "想申请上门服务", [
            ("给我妈办", ("给谁申请", "为什么不方便")),
            ("她坐轮椅", ("为什么不方便", "姓名和身份证号")),
            ("王秀英", ("姓名和身份证号", "已记下姓名")),
            (f"{MOTHER} 电话13812345678", ("已记下姓名", "办什么事")),
            ("养老认证", ("办什么事", "住在哪个村")),
            ("石桥村3组", ("住在哪个村", "1. 11月24日（周二）上午")),
            ("2", ("哪些时间", "残疾，88岁", "地址：石桥村3组", "11月25日（周三）下午")),
        ]),
    "too young for the age rule: who she is is kept": (
        None, "能上门服务吗", [
            ("1", ("给谁申请", "为什么不方便")),
            ("1", ("为什么不方便", "姓名和身份证号")),
            (f"刘桂兰 {YOUNGER}", ("姓名和身份证号", "今年66岁", "为什么不方便")),
            ("3", ("为什么不方便", "办什么事")),
        ]),
    "a village picked by number is asked its 组, as typing 「石桥村3组」 tells it": (
        "senior_allowance", "俺娘88了走不动，能上门办高龄补贴不", [
            (f"王秀英 {MOTHER}", ("姓名和身份证号", "住在哪个村")),
            ("1", ("1. 石桥村", "石桥村几组？回复数字")),
            ("3楼", ("几组", "请回复几组的数字")),  # still asked
            ("3", ("几组", "联系电话")),
            ("石桥村的，电话13812345678", ("联系电话", "哪些时间")),  # the same village: 3组 stays
            ("1", ("哪些时间", "地址：石桥村3组")),
            ("组错了，是5组", ("请核对", "地址：石桥村5组")),  # the 组 alone corrected
            ("1", ("请核对", "编号：SM261123TEST1")),
        ]),
    "a village named anew moves the address with it": (
        "senior_allowance", MOTHER_ASKS, [
            ("1", ("住在哪个村", "石桥村几组")),
            ("3", ("几组", "联系电话")),
            ("河坝村2组 13812345678", ("联系电话", "哪些时间")),
            ("1", ("哪些时间", "地址：河坝村2组")),
        ]),
    "a 社区 typed at the 组 question is asked no 组": (
        "senior_allowance", MOTHER_ASKS, [
            ("1", ("住在哪个村", "石桥村几组")),
            ("不对，是新街社区", ("几组", "联系电话")),
            *phone_and_time_to("新街社区\n"),
        ]),
    "a 组 not known leaves the village": (
        "senior_allowance", MOTHER_ASKS, [
            ("2", ("住在哪个村", "河坝村几组")),
            ("不知道", ("几组", "联系电话")),
            *phone_and_time_to("河坝村\n"),
        ]),
    "a 社区 has no 组 to ask": (
        "senior_allowance", MOTHER_ASKS, [
            ("3", ("3. 新街社区", "联系电话")),
        ]),
    "a wrong ID number keeps the name beside it": (
        "senior_allowance", "俺娘88了走不动，能上门办高龄补贴不", [
            ("王秀英 110105193805120021", ("姓名和身份证号", "校验不通过")),
            (MOTHER, ("身份证号", "住在哪个村")),
        ]),
}


@pytest.mark.parametrize("name", CONVERSATIONS)
async def test_home_visit_conversations(name):
    matter_id, first, turns = CONVERSATIONS[name]
    services = desk()
    state, slots = await play(home_visit_flow, first, {"matter": matter_id}, turns, services)
    if state == END:
        [visit] = services.visits.requested
        assert (visit.person_name, visit.relation, visit.for_self) == ("王秀英", "母亲", False)
    else:
        assert slots.get("name") in ("王秀英", "刘桂兰") and not services.visits.requested


def test_the_group_question_takes_a_village_or_not_knowing_as_its_answer():
    for text in ("3", "5组", "新街社区", "不太清楚", "记不清了", "没有组"):
        assert home_visit_flow.looks_like_answer("group", Kind.TEXT, text), text
    assert not home_visit_flow.looks_like_answer("group", Kind.TEXT, "你好")


@pytest.mark.parametrize(("first", "answers", "asked_again"), [
    ("1", ("3",), "石桥村几组"),  # picked by number, then its 组
    ("石桥村3组", (), "住在哪个村"),  # typed with its 组
    ("3", (), "住在哪个村"),  # a 社区 picked by number: no 组 was asked
    ("1", ("河坝村",), "住在哪个村"),  # another village typed at the 组 question
])
async def test_a_step_back_from_the_phone_asks_what_was_told_last(first, answers, asked_again):
    services = desk()
    turns = [(f"王秀英 {MOTHER}", ("姓名和身份证号",)), (first, ("住在哪个村",))]
    turns += [(answer, ("几组", "联系电话")) for answer in answers]
    state, slots = await play(home_visit_flow, "俺娘88了走不动，能上门办高龄补贴不",
                              {"matter": "senior_allowance"}, turns, services)
    assert state == home_visit_flow.VisitState.PHONE
    back, cleared = home_visit_flow.step_back(state, slots)
    slots.update(cleared)
    again = home_visit_flow.prompt_again(back, FlowContext(said("上一步"), slots, CATALOGUE,
                                                           services))
    assert asked_again in again
