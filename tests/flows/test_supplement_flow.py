"""The 补正 flow on its own, against in-memory services: a photo the check faults is answered
with its hint and 「1 重拍 2 就用这张」, as in the apply flow."""

from bot.flows import END
from bot.flows import supplement as supplement_flow
from tests.flows.conversation import photo, play
from tests.flows.test_apply_flow import InMemoryIntake


class InMemoryCases(InMemoryIntake):
    """One case waiting for two items."""

    def __init__(self) -> None:
        super().__init__()
        self.handed_in: list = []

    async def waiting(self, user_id):
        return [("BM261201TEST1", ["审批表", "银行卡"])]

    async def supplement(self, receipt_no, user_id, items):
        self.handed_in = items
        return "审核中"


async def test_a_faulty_photo_is_retaken_or_kept_anyway():
    cases = InMemoryCases()
    state, _ = await play(supplement_flow, "补交", {}, [
        (photo("overexposed-1"), ("补交第1/2项：审批表", "太亮了", "1 重拍 2 就用这张")),
        ("1", ("1 重拍 2 就用这张", "请重拍一张", "补交第1/2项")),
        (photo("good-2"), ("补交第1/2项", "收到【审批表】", "补交第2/2项")),
        (photo("too_small-3"), ("补交第2/2项", "照片太小", "1 重拍 2 就用这张")),
        ("2", ("1 重拍 2 就用这张", "就用这张", "收到【银行卡】", "补交好了")),
    ], cases)
    assert state == END
    assert [(item.state, item.file_id) for item in cases.handed_in] == [("received", 2),
                                                                         ("received", 3)]
