"""The apply flow on its own, against an in-memory case service: conversations as tables of
what the villager says and what the reply must show. (The same flow over /wechat on
PostgreSQL is tests/test_apply.py.)"""

from datetime import date

import pytest

from bot.cases.application import NewCase, Receipt
from bot.flows import END
from bot.flows import apply as apply_flow
from tests.flows.conversation import play

ID_NUMBER = "11010519491231002X"


class InMemoryIntake:
    """Cases kept in a list; a photo is file 1, 2, 3…"""

    def __init__(self) -> None:
        self.submitted: list[NewCase] = []

    async def keep_media(self, media_id: str) -> int:
        return len(media_id)

    async def submit(self, application: NewCase) -> Receipt:
        self.submitted.append(application)
        return Receipt("BM261201TEST1", date(2026, 12, 31), False, None)


CONVERSATIONS = {
    "everything at once: only the agent's own name is asked": (
        f"我要给我娘王秀英申请高龄补贴，她88了，身份证{ID_NUMBER}，电话13812345678，红旗村", [
            ("我叫李红", ("代办人", "一共4项")),
            ("1", ("第1/4项", "第2/4项")), ("1", ("第2/4项",)), ("1", ("第3/4项",)),
            ("2", ("第4/4项", "请核对", "代办人：李红", "村（社区）：红旗村")),
            ("1", ("回复 1 提交申请", "申请已受理")),
        ]),
    "in pieces, any order, with a correction": (
        "我想申请高龄补贴", [
            ("1", ("给谁申请", "申请人的姓名")),
            ("13800001234", ("申请人的姓名", "申请人的姓名")),  # the phone kept, name asked
            (f"王秀英 {ID_NUMBER}", ("申请人的姓名", "已记下", "村（社区）")),
            ("石桥村", ("村（社区）", "一共3项")),
            ("1", ("第1/3项",)), ("1", ("第2/3项",)),
            ("2", ("第3/3项", "请核对", "138****1234")),
            ("电话错了，是13912345678", ("请核对", "139****5678")),
            ("1", ("请核对", "申请已受理")),
        ]),
    "a bad ID number is said plainly and the rest kept": (
        "我要申请高龄补贴", [
            ("1", ("给谁申请", "申请人的姓名")),
            ("王秀英 110105194912310021", ("申请人的姓名", "校验不通过", "身份证号")),
            (ID_NUMBER, ("身份证号", "联系电话")),
        ]),
}


@pytest.mark.parametrize("name", CONVERSATIONS)
async def test_apply_conversations(name):
    first, turns = CONVERSATIONS[name]
    intake = InMemoryIntake()
    state, slots = await play(apply_flow, first, {"matter": "senior_allowance"}, turns, intake)
    if state == END:
        [case] = intake.submitted
        assert case.applicant_name == "王秀英" and case.applicant_id_number == ID_NUMBER
    else:
        assert slots["name"] == "王秀英" and not intake.submitted
