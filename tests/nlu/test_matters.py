"""Which matter a villager means, when they type it wrong or say it through voice input."""

import pytest

from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.nlu.matters import MatterResolver


@pytest.fixture(scope="module")
def resolver():
    return MatterResolver(load_catalogue(ROOT / "catalogue"))


def chosen(resolver, text):
    pick = resolver.choose(resolver.rank(text))
    return pick.matter if pick else None


@pytest.mark.parametrize(("text", "matter"), [
    ("俺娘想申请低保都要带啥", "dibao"),
    ("底保要带啥", "dibao"),                       # homophone typo
    ("那个嗯就是残急证要带啥", "disability_certificate"),  # voice recognition
    ("高零补贴咋领", "senior_allowance"),
    ("残疾症要带啥", "disability_certificate"),
    ("我要办dibao", "dibao"),                     # pinyin in Latin letters
    ("ＤＩＢＡＯ怎么办", "dibao"),                  # full-width
    ("娃儿落户要哪些东西", "birth_registration"),   # not 户口迁入
    ("买了房想落户", "hukou_move_in"),
    ("办低保要带身份证吗", "dibao"),               # 身份证 is a material here
    ("身份证丢了咋补", "id_card"),
    ("新农合交多少钱", "medical_insurance_enrollment"),
    ("新农合怎么报", "medical_insurance_reimbursement"),
    ("住院生孩子报销要带生育证吗", "medical_insurance_reimbursement"),
    ("老年证", "elderly_card"),
    ("八十岁补贴", "senior_allowance"),
    ("残疾人两项补贴", "disability_subsidies"),
])
def test_the_matter_is_found(resolver, text, matter):
    assert chosen(resolver, text) == matter


def test_confusable_pair_in_one_question_asks_back(resolver):
    candidates = resolver.rank("低保和五保有啥区别")
    assert resolver.choose(candidates) is None
    assert {c.matter for c in candidates[:2]} == {"dibao", "wubao"}


def test_a_word_two_matters_share_offers_both(resolver):
    candidates = resolver.rank("医保的事")
    assert resolver.choose(candidates) is None
    assert {c.matter for c in candidates} == {
        "medical_insurance_enrollment", "medical_insurance_reimbursement"}


@pytest.mark.parametrize("text", ["你好", "几点上班", "给我唱首歌", "我想改个预约时间"])
def test_no_matter_where_none_is_named(resolver, text):
    assert resolver.rank(text) == []


def test_scores_order_exact_above_homophone(resolver):
    [exact] = resolver.rank("低保")
    [homophone] = resolver.rank("底保")
    assert exact.matter == homophone.matter == "dibao"
    assert exact.score > homophone.score


def test_entity_values_map_back_to_matters(resolver):
    assert resolver.matters_for_surface("低保") == {"dibao"}
    assert resolver.matters_for_surface("医保") == {
        "medical_insurance_enrollment", "medical_insurance_reimbursement"}
    assert resolver.matters_for_surface("不存在") == set()
