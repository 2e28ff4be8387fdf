import pytest

from customers import text


@pytest.mark.parametrize(
    "name, expected",
    [
        ("华为技术有限公司", "华为技术"),
        ("华为技术股份有限公司", "华为技术"),
        ("  华为技术  ", "华为技术"),
        ("Huawei Technologies Co., Ltd.", "huaweitechnologies"),
        ("ACME Group", "acme"),
        ("Costco", "costco"),
        ("Ltd", "ltd"),
        ("ＡＢＣ公司", "abc"),
    ],
)
def test_normalize_name(name, expected):
    assert text.normalize_name(name) == expected


def test_pinyin_keys_mix_chinese_and_latin():
    assert text.pinyin_keys("华为技术") == ("huaweijishu", "hwjs")
    assert text.pinyin_keys("重庆 Acme 科技") == ("chongqingacmekeji", "cqakj")


@pytest.mark.parametrize(
    "raw, digits",
    [("+86 138-0013-8000", "13800138000"), ("0086 13800138000", "13800138000"), ("", "")],
)
def test_phone_digits(raw, digits):
    assert text.phone_digits(raw) == digits


def test_domains():
    assert text.email_domain("Sales@Huawei.COM") == "huawei.com"
    assert text.website_domain("https://www.huawei.com/cn") == "huawei.com"
    assert text.website_domain("huawei.com") == "huawei.com"


def test_search_terms():
    assert text.search_terms("Hua Wei") == {"hua wei", "huawei"}
    assert text.search_terms("138-0013") == {"138-0013", "1380013"}
    assert text.search_terms("华为") == {"华为"}
    assert text.search_terms("  ") == set()
