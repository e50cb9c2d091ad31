"""Dialogue stage: the bot's shared Chinese sentences, in one place for review.

Short lines, numbered choices, plain words: many readers are elderly, on small phones.
"""

WELCOME = (
    "您好！这里是{center}。办事要带什么材料、怎么办、去哪办、多久办好，"
    "直接打字或按住说话问我就行，比如“低保要带啥”。"
)
MAIN_MENU = "回复数字也行："
NO_CHOICE_NOW = "这个数字现在没有对应的事。"
NO_CHOICE_IN_FLOW = "这一步不用选数字，请直接写（或说）："
GREETING = "您好！请问要办什么事？直接说就行，比如“高龄补贴要带啥”。"
THANKS = "不客气！还有别的事，随时发消息问我。"
GOODBYE = "好的，再见！有事随时找我们。"
OUT_OF_SCOPE = (
    "这个问题我答不了。我能回答到便民服务中心办事的问题，"
    "比如“低保要带啥”“残疾证在哪办”。找工作人员请发“转人工”。"
)
OUTSIDE = ("“{topic}”不在本中心办理。{where}"
           "需要的话回复“人工”，工作人员帮您问清楚；投诉建议也可以打 12345 热线。")
OUTSIDE_WHERE = "去哪问：{where}。"
NOT_UNDERSTOOD = "没太明白您要办什么事。能再说说吗？比如：低保、高龄补贴、残疾证、户口迁入。"
NOT_UNDERSTOOD_AGAIN = (
    "对不起，我还是没弄明白。发“转人工”，工作人员会回复您;也可以打电话 {phone}。"
)
ASK_WHICH_MATTER_TO_BOOK = "约办什么事？比如：低保、高龄补贴、残疾证。"
CHANGE_BOOKING_HINT = "要改时间或取消，发“改预约”。"
ASK_WHICH_MATTER = "您问的是办哪件事？比如：低保、高龄补贴、残疾证、户口迁入。"
CHOOSE_MATTER = "您问的是哪一个？"
# One matter guessed from the words around it, not named: asked, never answered outright.
CONFIRM_MATTER = "您问的是这件事吗？"
CONFIRM_OR_REPHRASE = "是的话回复 1 或“是”；不是的话，换个说法再说一遍。"
REPLY_WITH_NUMBER = "回复数字就行。"
OR_PICK_TOPIC = "也可以发数字选："
NEXT_PAGE = "下一页"
MATTER_MENU = (
    "想接着问【{name}】，回复数字：\n1 要带啥　2 怎么办　3 条件\n4 多久　5 在哪办　6 收费"
    "\n7 在手机上申请　8 预约时间来办"
)
NO_SUCH_CHOICE = "没有这个选项，请回复列表里的数字。"
CANCELLED = "好的，已取消。还有别的事可以直接问我。"
BOOKING_UNCHANGED = "好的，预约没有改动。要取消预约请回复“取消预约”再按提示选。"
FLOW_INTERRUPTED = "刚才的操作中断了，没有办成。请再说一下要办什么。"
NOTHING_TO_CANCEL = "好的。还有别的事可以直接问我。"
NO_MORE = "后面没有了。还有别的事可以直接问我。"
MORE_FOLLOWS = "（还有下文，发“继续”查看）"
TO_CONFIRM = "（标“待核实”的，中心还在核实，去办之前可以先打电话 {phone} 问一下）"
HOURS_TO_CONFIRM = "（延时服务、周六和赶集日的时间以本中心公布为准，去之前先打电话问一下）"
ASK_BEFORE_GOING = "去之前请先打电话 {phone} 问清楚；也可以回复“人工”，请工作人员告诉您。"
ASK_BEFORE_GOING_PAPER = "去之前请先打电话 {phone} 问清楚。"  # a printed sheet
EMPTY_MESSAGE = "请用文字说说您要办什么事，比如“低保要带啥”。"
HANDOFF_TAKEN = (
    "好的，已为您转人工。工作人员会在上班时间（{hours}）回复您。急事请打 {phone}。"
)
HEARD_CHECK = "您说的是“{heard}”吗？\n1 对\n2 不对"
HEARD_WRONG = "请再说一遍，或者打字发过来。"
COMPLAINT_ASK = "请直接写下（或用语音说）您要反映的问题，工作人员会看到并联系您。{promise}。"
COMPLAINT_TAKEN = (
    "您反映的问题已经记下了，我们会认真核实，工作人员会联系您。"
    "也可以打电话 {phone} 或 12345 反映。"
)
VOICE_NOT_RECOGNISED = (
    "抱歉，这条语音没能听清。请打字告诉我，或者发“转人工”，工作人员会听您的语音。"
)
MEDIA_RECEIVED = "收到您发的{what}，已经保存。要办事的话，请用文字说一下要办什么。"
LOCATION_RECEIVED = "收到您的位置{label}。我们中心在：{address}。"
LINK_RECEIVED = "收到链接。请用文字说一下您想办的事。"
UNSUPPORTED = "暂时看不了这种消息，请打字告诉我您要办的事。"
SLOW_DOWN = "您发得太快了，请稍等几秒再发。"
BUSY = "系统繁忙，请稍后再试。"
APPLY_NOT_YET = (
    "手机上申请的功能马上开通。现在办【{name}】：带齐材料到{place}办理。"
    "发“1”看要带的材料。"
)
BOOKING_NOT_YET = "手机预约马上开通。现在预约请打电话 {phone}，或在上班时间（{hours}）直接来。"
HOME_VISIT_NOT_YET = (
    "行动不便的老人、残疾人可以申请上门服务。手机申请马上开通，现在请打电话 {phone}，"
    "或请村里的代办员帮您登记。"
)
PROGRESS_NOT_YET = "手机查进度马上开通。现在请打电话 {phone}，报上受理回执上的编号就能查。"
SURE_TO_QUIT_APPLY = "确定不申请了吗？已经填的内容会删除。\n1. 确定不申请了\n2. 接着填"
APPLY_GOES_ON = "好的，接着填。"
STEP_BACK = "好的，这一项重新填：\n"
NO_STEP_BACK = "这一步退不回去了。要改哪一项直接说，比如“电话错了，是139…”。"
APPLY_CANCELLED = "申请已取消，填的内容已删除。想办的时候再发“申请”。"
APPLY_RESUME = "（接着申请）"
PROGRESS_NONE = "没查到您申请的事项。有受理编号的话，直接发编号（BM开头）。"
PROGRESS_HOW = ("查您的办件：发受理回执上的编号（BM开头）；不是用这个微信号申请的，"
                "按提示再发申请时留的电话后4位。")
PROGRESS_ASK_CLERK = "要工作人员帮您查，请发“转人工”。"
PROGRESS_OTHERS = "\n您用这个微信号申请的其他事项，发“办到哪了”查看。"
PROGRESS_ASK_PHONE = "为了保护隐私，请发申请时留的电话号码的后4位。"
PROGRESS_NOT_FOUND = "没查到这个受理编号，或者和电话对不上。请核对后再发。"
PROGRESS_LOCKED = ("为保护申请人的信息，核对次数太多，先暂停一下。请{wait}后再试，"
                   "或带身份证到窗口查询，也可以打电话 {phone}。")
NOTICES_OFF = "好的，以后不再给您发办事通知。想恢复请发“恢复通知”。"
NOTICES_ON = "好的，办事进度会再通知您。"
VOICE_ON = "好的，以后的回答和通知都会念给您听，文字也照样发。不想听了，就发“不要语音”。"
VOICE_OFF = "好的，以后只发文字。想听的时候，发“念给我听”。"
NOTHING_TO_READ = "还没有可以念的内容。您想问什么？比如“低保要带什么”。"
VOICE_UNAVAILABLE = "抱歉，现在还不能发语音。请让家人帮忙看一下文字，或者打电话 {phone} 问。"
NOTICES_SMS_ONLY = "好的，以后办事通知都发短信。"
HANDOFF_OPENED = (
    "好的，已为您转人工。{promise}。您接着发的消息工作人员都能看到；不需要了请发“取消人工”。"
)
HANDOFF_PASSED_ON = "已转给工作人员，请稍等。还有要说的接着发；不需要了请发“取消人工”。"
HANDOFF_SEEN = "（已发给工作人员）"
HANDOFF_CANCELLED = "已取消人工服务。有事可以接着问我。"
RATING_THANKS = "谢谢您的评价！还有什么意见或建议？直接说就行，没有请回复“没有”。"
COMMENT_THANKS = "谢谢，您的意见我们记下了。"
DELETE_REQUESTED = "已记录您删除个人信息的请求。{promise}，核实后会告诉您结果。"
NOT_UNDERSTOOD_HANDED = "对不起，我没弄明白，已经转给工作人员。{promise}。"

# Village agents (代办员): binding with the code a clerk gave, and the agent menu.
AGENT_BIND_HOW = "请发“绑定”加中心给您的8位绑定码，例如：绑定 12345678"
AGENT_BIND_WECHAT_ONLY = "代办员请在微信公众号里绑定。"
AGENT_BIND_WRONG = "绑定码不对或已过期，请核对；过期了请找中心重新生成。"
AGENT_BIND_LOCKED = "试错次数太多，请{wait}后再试，或找中心重新生成绑定码。"
AGENT_BOUND = "绑定好了，{name}！您负责：{villages}。\n发“代办”打开代办菜单。"
NOT_AN_AGENT = "您还不是登记的代办员。代办员请找中心登记，拿到绑定码后发：绑定 加8位码。"
AGENT_MENU = "{name}，要办什么？回复数字："
AGENT_WHICH_MATTER = "替村民申请哪件事？"
AGENT_MENU_AGAIN = "（回复菜单里的其他数字接着看）"
AGENT_OPEN = "本村在办的件："
AGENT_WAITING = "等补正的件（您替他们办的，发“补交”就能拍照补交）："
AGENT_MORE = "……共{count}件，全部请到中心查看。"
AGENT_VISITS = "本村的上门服务："
AGENT_BOOKINGS = "您约的窗口时间（改约、取消请发“我的预约”）："
AGENT_UNDELIVERED = "这些通知没送到本人（没有微信、短信没收到），请转告："
AGENT_NONE_OPEN = "本村现在没有在办的件。"
AGENT_NONE_WAITING = "本村现在没有等补正的件。"
AGENT_NONE_VISITS = "本村现在没有待上门的服务。"
AGENT_NONE_UNDELIVERED = "没有没送到的通知。"
