"""Web stage, console: the words a clerk reads for what the services store as codes —
statuses, channels, roles, audit actions and the values an action changed."""

from __future__ import annotations

from collections.abc import Mapping

from bot.appointments.bookings import STATUS_LABELS
from bot.appointments.home_visits import VisitStatus
from bot.cases.status import Status
from bot.handoff.service import HandoffStatus
from bot.intents import Intent
from bot.review.service import ExampleStatus, ReviewReason

HANDOFF_WORDS: dict[str, str] = {HandoffStatus.WAITING: "等待接手", HandoffStatus.CLAIMED: "处理中",
                 HandoffStatus.CLOSED: "已结束", HandoffStatus.CANCELLED: "村民已取消"}
BOOKING_WORDS: dict[str, str] = dict(STATUS_LABELS)
VISIT_WORDS: dict[str, str] = {VisitStatus.REQUESTED: "待安排", VisitStatus.SCHEDULED: "已安排",
               VisitStatus.DONE: "已上门", VisitStatus.CANCELLED: "已取消"}
MATERIAL_WORDS = {"received": "已拍照", "at_window": "到窗口交", "none": "没有"}
CHANNEL_WORDS = {"wechat": "微信", "sms": "短信", "web": "网页", "console": "工作台",
                 "window": "窗口代约", "phone": "电话代约"}
ROLE_WORDS = {"clerk": "窗口工作人员", "supervisor": "负责人", "director": "主任",
              "admin": "管理员"}
ACTION_WORDS = {
    "login": "登录", "login.failed": "登录失败", "login.locked": "密码试错太多，暂时锁定",
    "receipt.locked": "查件试错太多，暂时锁定", "clerk.add": "添加工作人员",
    "clerk.passwd": "重设密码", "clerk.enable": "启用账号", "clerk.disable": "停用账号",
    "case.view": "查看申请", "case.receipt": "打印受理回执", "case.move": "改变申请状态",
    "handoff.contact": "联系申请人",
    "handoff.reveal": "查看完整号码", "handoff.claim": "接手人工服务",
    "handoff.reply": "回复村民", "handoff.close": "结束人工服务",
    "home_visit.schedule": "安排上门", "booking.mark": "登记预约到场情况",
    "file.view": "查看村民发来的照片或语音",
    "handoff.transfer": "转交人工服务", "booking.desk": "代村民预约",
    "reply.add": "添加常用回复", "reply.remove": "删除常用回复",
    "catalogue.publish": "发布事项更新", "review.teach": "把问题教给机器人",
    "review.approve": "采用例句", "review.reject": "不采用例句", "matter.edit": "修改事项",
    "matter.restore": "恢复事项的旧版本", "agent.add": "登记代办员",
    "agent.code": "重新生成代办员绑定码", "agent.enable": "启用代办员",
    "agent.disable": "停用代办员", "village.print": "打印村里待送达清单",
}
TARGET_WORDS = {"case": "申请", "handoff": "人工服务", "booking": "预约", "visit": "上门服务",
                "clerk": "工作人员", "user": "登录名", "ip": "地址", "user_ip": "登录名和地址",
                "receipt": "受理编号", "guesser": "查件人", "catalogue": "事项目录",
                "reply": "常用回复", "question": "机器人没答上的问题", "example": "例句",
                "matter": "事项", "agent": "代办员", "village": "村（社区）"}
FIELD_WORDS = {"status": "状态", "active": "账号", "role": "角色", "window": "窗口",
               "handoff": "人工服务", "when": "时间", "proposed": "另约时间", "ip": "地址",
               "tries": "试了几次", "seconds": "锁定秒数", "file": "文件编号",
               "clerk": "同事", "channel": "方式", "text": "问题", "intent": "意图",
               "matter": "事项", "aliases": "群众叫法", "materials": "材料",
               "conditions": "办理条件", "time_limit": "办理时限", "fee": "收费",
               "to_confirm": "整个事项待核实", "revision": "版本", "time_immediate": "即办",
               "time_working_days": "时限工作日数", "time_days": "时限自然日数",
               "time_note": "时限说明", "time_source": "时限出处", "fee_source": "收费出处",
               "name": "姓名", "phone": "电话", "villages": "负责的村"}
CHECKBOXES = frozenset({"to_confirm", "time_immediate"})
INTENT_WORDS: dict[str, str] = {
    Intent.ASK_MATERIALS: "要带什么材料", Intent.ASK_PROCEDURE: "怎么办理",
    Intent.ASK_CONDITIONS: "够不够条件、能领多少", Intent.ASK_TIME_LIMIT: "要多久",
    Intent.ASK_FEE: "收不收费", Intent.ASK_LOCATION: "在哪里办",
    Intent.ASK_OFFICE_HOURS: "中心几点上班", Intent.APPLY: "要申请",
    Intent.BOOK_APPOINTMENT: "预约窗口时间", Intent.BOOK_HOME_VISIT: "要上门服务",
    Intent.CANCEL_APPOINTMENT: "取消或改预约", Intent.CHECK_PROGRESS: "查自己办件的进度",
    Intent.COMPLAIN: "投诉", Intent.HUMAN_HANDOFF: "要找工作人员", Intent.GREET: "打招呼",
    Intent.THANKS: "道谢", Intent.GOODBYE: "告别", Intent.AFFIRM: "回答“是”",
    Intent.DENY: "回答“不是”", Intent.OUT_OF_SCOPE: "和办事无关",
}
REVIEW_WORDS: dict[str, str] = {
    ReviewReason.NOT_UNDERSTOOD: "没听懂", ReviewReason.BARE_MENU: "只回了菜单",
    ReviewReason.CHOICES: "让村民选事项，没能确定", ReviewReason.ASKED_PERSON: "村民要找工作人员",
    ReviewReason.HANDED_OVER: "两次没听懂，转了人工"}
EXAMPLE_WORDS: dict[str, str] = {ExampleStatus.PENDING: "待审核",
                                 ExampleStatus.APPROVED: "已采用", ExampleStatus.REJECTED: "未采用"}
# The status words of each kind of record, by the prefix of an audit target (case:BM…)
_STATUS_BY_TARGET: Mapping[str, Mapping[str, str]] = {
    "case": {status.value: status.label for status in Status},
    "handoff": HANDOFF_WORDS, "booking": BOOKING_WORDS, "visit": VISIT_WORDS,
    "example": EXAMPLE_WORDS,
}


def target_words(target: str, names: Mapping[str, str] | None = None) -> str:
    """「case:BM2611…」 → 「申请 BM2611…」, 「clerk:li」 → 「工作人员 李四」."""
    kind, _, rest = target.partition(":")
    word = TARGET_WORDS.get(kind)
    if kind == "clerk" and names:
        rest = names.get(rest, rest)
    return f"{word} {rest}".strip() if word else target


def _value_words(kind: str, field: str, value: object) -> str:
    if field == "status":
        return _STATUS_BY_TARGET.get(kind, {}).get(str(value), str(value))
    if field == "role":
        return ROLE_WORDS.get(str(value), str(value))
    if field == "intent":
        return INTENT_WORDS.get(str(value), str(value))
    if field in CHECKBOXES and isinstance(value, str):
        return "是" if value else "否"
    if isinstance(value, bool):
        return ("启用" if value else "停用") if field == "active" else ("是" if value else "否")
    return "—" if value is None else str(value)


def change_words(target: str, values: Mapping[str, object] | None) -> str:
    """What an audited action changed, in words: 「状态：处理中」."""
    if not values:
        return ""
    kind = target.partition(":")[0]
    return "；".join(f"{FIELD_WORDS.get(field, field)}：{_value_words(kind, field, value)}"
                    for field, value in values.items())
