"""Dialogue stage: what the booking flow says (bot/flows/booking.py), in one place."""

# The days offered by number (the words each number stands for), for those who cannot type
DAY_CHOICES = (("最近能约的时间", "随便"), ("明天", "明天"), ("周六", "周六"),
               ("赶集那天", "赶集那天"))
ASK_DAY = ("哪天来？回复数字：\n" + "\n".join(f"{n}. {label}" for n, (label, _) in
                                        enumerate(DAY_CHOICES, 1))
           + "\n也可以直接说，比如“下周一下午”。")
DAY_NOT_UNDERSTOOD = "没听懂是哪天。"
CHOOSE_SLOT = "这些时间可以约，回复数字选一个：\n{options}\n也可以说别的日子。"
NOTHING_FREE = "最近{days}天都约满了。请直接在上班时间来，或打电话 {phone}。"
ASK_CONTACT = "请发来办事人的姓名和手机号，比如：张秀英 13812345678"
CONTACT_MISSING = "还差{what}。"
ASK_PHONE = "已记下姓名{name}，请再发手机号。"
ASK_NAME = "已记下手机号，请再发办事人的姓名。"
NOTED = "已记下：{facts}。"
CONFIRM = ("请核对：\n事项：{matter}{for_whom}\n时间：{slot}\n地点：{place}\n"
           "姓名：{name}\n电话：{phone}\n回复 1 确认预约，2 换个时间。")
BOOKED = ("预约成功！预约号：{number}\n{slot}，{place}（{window}）。\n"
          "请提前10分钟到，报预约号就行。{bring}\n"
          "有变化发“改预约”或“取消预约”。")
HOURS_TO_CONFIRM = "\n（延时和赶集日服务的时间以本中心公布为准，去之前可以打电话 {phone} 确认）"
ALREADY_BOOKED = "您已经约了{slot}，预约号{number}。要改时间请发“改预约”。"
MOVED = "改好了！原来的预约 {old} 已取消。\n"
NOT_HERE = "【{name}】不在本中心的窗口办理，要到{place}办，这里约不了。"
REPLY_1_OR_2 = "请回复 1 或 2。"
NONE_BOOKED = "您现在没有预约。要预约请说“预约”加事项，比如“预约办低保”。"
WHICH_ONE = "您有这些预约，改哪一个？\n{options}"
MANAGE_BOOKING = "{item}\n1. 取消这个预约\n2. 改个时间\n3. 不改了"
MANAGE_VISIT = "{item}\n1. 取消上门服务\n3. 不改了"
CANCELLED = "已取消预约 {number}。"
CANCELLED_LATE = "（离预约时间不到{hours}小时才取消，记一次临时取消）"
VISIT_CANCELLED = "已取消上门服务申请 {number}。"
KEPT = "好的，预约不变。"
SURE_TO_CANCEL = "确定要取消 {number} 吗？取消后这个时间会让给别人。\n1. 确定取消\n2. 不取消"
