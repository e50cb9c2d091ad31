"""The facts a message carries, recognised by their kind whatever the bot asked."""

import pytest

from bot.flows.facts import age_in, facts_in, looks_like_name, name_beside

VILLAGES = ("石桥村", "红旗村", "新街社区")
ID = "110101193805121231"


def test_everything_in_one_message_is_taken():
    found = facts_in(f"我要给我娘王秀英申请高龄补贴，她88了，身份证{ID}，电话13812345678，"
                     "红旗村3组", VILLAGES)
    assert (found.relation, found.for_self, found.name, found.age) == ("母亲", False, "王秀英", 88)
    assert (found.id_number, found.phone) == (ID, "13812345678")
    assert (found.village, found.group) == ("红旗村", "3组")


@pytest.mark.parametrize(("text", "relation"), [
    ("我妈88岁了走不动", "母亲"), ("替我爸办", "父亲"), ("给我自己办", "本人"),
    ("老伴瘫在床上", "配偶"), ("帮俺奶奶问问", "祖父母"), ("高龄补贴咋办", None),
])
def test_for_whom(text, relation):
    assert facts_in(text).relation == relation


@pytest.mark.parametrize(("text", "age"), [
    ("她88了", 88), ("我妈今年九十二岁", 92), ("八十多了", 80), ("88周岁", 88),
    ("电话13812345678", None), (f"身份证{ID}", None),
])
def test_ages_said_not_numbers_of_another_kind(text, age):
    assert facts_in(text).age == age
    assert age_in("三组") is None


def test_a_village_is_not_a_name_and_a_phone_is_not_an_id_number():
    assert not looks_like_name("石桥村") and not looks_like_name("三组")
    assert looks_like_name("王秀英")
    assert facts_in("13812345678").id_number is None
    assert facts_in(ID).phone is None
    assert facts_in("他叫张德明").name == "张德明"
    assert facts_in("我妈走不动了").name is None  # no surname: nobody is named
    assert facts_in("给我娘王芳申请高龄补贴").name == "王芳"  # two characters, then 申请
    assert facts_in("给我爸张德明办残疾证").name == "张德明"


@pytest.mark.parametrize("text", [f"王秀英 {ID}", f"我妈王秀英，身份证号{ID}", f"{ID} 王秀英",
                                  f"王秀英{ID.replace('1231', '123x')}"])
def test_the_name_written_beside_an_id_number(text):
    found = facts_in(text)
    assert name_beside(text, found.id_number) == "王秀英"


def test_why_the_person_cannot_come():
    assert facts_in("坐轮椅").disabled and facts_in("常年卧床").ill
    assert not facts_in("我要申请").ill


@pytest.mark.parametrize("said", ["好的", "谢谢", "没有", "我问问", "李红的", "不知道"])
def test_reply_words_are_no_names(said):
    assert not looks_like_name(said)
