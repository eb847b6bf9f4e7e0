"""Normalisers: text, name keys, dates, amounts, personal-ID masking, licence numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from pipelines.normalise import (
    SHANGHAI,
    clean_text,
    is_personal_id,
    mask_id_number,
    mask_personal_ids_in_text,
    name_key,
    normalise_licence_number,
    parse_amount_yuan,
    parse_date,
    to_simplified,
)


def full_width(text: str) -> str:
    """ASCII → full-width forms (U+FF01..U+FF5E), space → U+3000, as some registry pages render them."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


def make_id(first17: str) -> str:
    return first17 + stdnum_ric.calc_check_digit(first17 + "0")


# ------------------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("  \t\n", None),
        ("\u3000\u00a0\u200b", None),
        ("  北京\u3000\u3000百度网讯  科技\n有限公司 ", "北京 百度网讯 科技 有限公司"),
        ("（北京）科技有限公司", "(北京)科技有限公司"),
        ("ＡＢＣ１２３", "ABC123"),
        ("北京\u200b科技\ufeff", "北京科技"),  # zero-width characters are deleted, not turned into spaces
        ("a\u00a0b", "a b"),
        (12345, "12345"),
    ],
)
def test_clean_text(raw: object, expected: str | None) -> None:
    assert clean_text(raw) == expected


def test_to_simplified() -> None:
    assert to_simplified("華為技術有限責任公司") == "华为技术有限责任公司"
    assert to_simplified("数据中心") == "数据中心"
    assert to_simplified("") == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("北京百度网讯科技有限责任公司", "北京百度网讯科技有限公司"),
        ("华为技术有限公司", "華為技術有限公司"),
        ("阿里云计算有限公司", " 阿里云计算 有限公司。"),
        ("世纪互联(北京)数据中心有限公司", "世纪互联（北京）数据中心有限公司"),
        ("ABC Data Co., Ltd.", "abc data co ltd"),
        ("优刻得科技股份有限公司", "优刻得科技股份有限公司\u200b"),
        ("北京·科技有限公司", "北京、科技有限公司"),
    ],
)
def test_name_key_equates_variants(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_name_key_keeps_different_names_apart_and_empty_is_empty() -> None:
    assert name_key("北京百度网讯科技有限公司") != name_key("北京百度网讯科技股份有限公司")
    assert name_key("中国电信股份有限公司") == "中国电信股份有限公司"
    assert name_key("  ") == ""


# Simplified/traditional word pairs that occur in operator names.
TRAD_PAIRS = [
    ("网络", "網絡"), ("数据", "數據"), ("科技", "科技"), ("电信", "電信"), ("云", "雲"), ("计算", "計算"),
    ("发展", "發展"), ("广东", "廣東"), ("华为", "華為"), ("有限责任公司", "有限責任公司"), ("集团", "集團"),
    ("技术", "技術"), ("服务", "服務"), ("资讯", "資訊"), ("国际", "國際"), ("通讯", "通訊"),
    ("北京", "北京"), ("深圳", "深圳"), ("互联", "互聯"), ("中心", "中心"),
]
name_texts = st.text(
    alphabet=st.sampled_from("北京上海深圳数据中心网络科技有限公司股份集团云计算ABCxyz0123 ()（）·,.&-"),
    max_size=30,
)


@given(st.text(max_size=40))
def test_name_key_is_idempotent(name: str) -> None:
    key = name_key(name)
    assert name_key(key) == key


@given(name_texts)
def test_name_key_ignores_full_width_forms(name: str) -> None:
    assert name_key(full_width(name)) == name_key(name)


@given(st.lists(st.sampled_from(TRAD_PAIRS), min_size=1, max_size=6))
def test_name_key_ignores_traditional_characters(words: list[tuple[str, str]]) -> None:
    simplified = "".join(s for s, _ in words)
    traditional = "".join(t for _, t in words)
    assert name_key(traditional) == name_key(simplified)


# ------------------------------------------------------------------------------------------ dates

MARCH_5 = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "raw",
    [
        "2024年3月5日",
        "2024年03月05日",
        "2024-03-05",
        "2024/3/5",
        "2024.3.5",
        "20240305",
        20240305,
        "2024-03-05 12:30:00",
        "2024-03-05T12:30:00",
        "2024-03-05T23:59:59.123",
        "2024-03-04T16:30:00Z",  # 00:30 on the 5th in Beijing time
        "2024-03-05T08:00:00+08:00",
        "２０２４年３月５日",
        "２０２４－０３－０５",
        " 2024-03-05 ",
        1709568000000,  # 2024-03-05 00:00 Asia/Shanghai in ms (still the 4th in UTC)
        "1709568000000",
        "1709568000",
        1709568000,
        1709568000000.0,
        dt.date(2024, 3, 5),
        dt.datetime(2024, 3, 5, 12, 0),
        dt.datetime(2024, 3, 4, 17, 0, tzinfo=dt.UTC),
    ],
)
def test_parse_date_accepts_every_published_format(raw: object) -> None:
    assert parse_date(raw) == MARCH_5


def test_parse_date_pandas_values() -> None:
    pandas = pytest.importorskip("pandas")
    assert parse_date(pandas.NaT) is None
    assert parse_date(pandas.Timestamp("2024-03-05 12:00")) == MARCH_5


def test_parse_date_court_publish_date_stamp() -> None:
    # zxgk record: publishDate "2020年07月21日" with publishDateStamp "1595260800" (registries.md §4.1).
    assert parse_date("1595260800") == parse_date("2020年07月21日") == dt.date(2020, 7, 21)


def test_parse_date_epoch_before_1970_and_twelve_digit_ms() -> None:
    assert parse_date(-631180800000) == dt.date(1950, 1, 1)  # negative ms from a Java dump
    assert parse_date("788889600000") == dt.date(1995, 1, 1)  # 12-digit ms
    assert parse_date("4102444800000") == dt.date(2100, 1, 1)  # last year in range


@pytest.mark.parametrize(
    "raw", [None, "", "  ", "-", "--", "无", "暂无", "null", "NULL", "None", float("nan")]
)
def test_parse_date_empty_markers_are_none(raw: object) -> None:
    assert parse_date(raw) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2024-02-30", "no such day"),
        ("2023年2月29日", "no such day"),
        ("20241301", "no such day"),
        ("1900-01-01", "outside 1949..2100"),
        ("2101-01-01", "outside 1949..2100"),
        ("1948年12月31日", "outside 1949..2100"),
        ("4133980800000", "outside 1949..2100"),  # epoch ms of 2101-01-01 08:00 in Shanghai
        ("abc", "unrecognised"),
        ("2024-03", "unrecognised"),
        ("2024-03/05", "unrecognised"),
        ("2024-03-05x", "unrecognised"),
        ("03/05/2024", "unrecognised"),
        ("12345", "5-digit"),
        ("-86400000", "negative"),
        (True, "boolean"),
        (1.5, "fractional"),
    ],
)
def test_parse_date_rejects_with_value_in_message(raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_date(raw)
    assert repr(raw) in str(caught.value)


in_range_dates = st.dates(min_value=dt.date(1949, 1, 1), max_value=dt.date(2100, 12, 31))
times = st.times()
TEXT_FORMATS = [
    lambda d, t: f"{d.year}年{d.month}月{d.day}日",
    lambda d, t: f"{d.year}年{d.month:02d}月{d.day:02d}日",
    lambda d, t: d.isoformat(),
    lambda d, t: f"{d.year}/{d.month}/{d.day}",
    lambda d, t: f"{d.year}.{d.month}.{d.day}",
    lambda d, t: d.strftime("%Y%m%d"),
    lambda d, t: f"{d.isoformat()} {t.strftime('%H:%M:%S')}",
    lambda d, t: dt.datetime.combine(d, t).isoformat(),
    lambda d, t: full_width(f"{d.year}年{d.month}月{d.day}日"),
]


@given(in_range_dates, times, st.sampled_from(TEXT_FORMATS))
def test_dates_formatted_as_text_parse_back(date: dt.date, time: dt.time, fmt) -> None:
    assert parse_date(fmt(date, time)) == date


@given(st.dates(min_value=dt.date(1974, 1, 1), max_value=dt.date(2100, 12, 31)), times,
       st.sampled_from(["ms_int", "ms_str", "s_str"]))
def test_epoch_values_parse_back_in_shanghai(date: dt.date, time: dt.time, kind: str) -> None:
    seconds = int(dt.datetime.combine(date, time, tzinfo=SHANGHAI).timestamp())
    raw: object = {"ms_int": seconds * 1000, "ms_str": str(seconds * 1000), "s_str": str(seconds)}[kind]
    assert parse_date(raw) == date


# ---------------------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("5000元", "元", "5000"),
        ("5,000.00", "元", "5000"),
        ("5，000.50元", "元", "5000.5"),
        ("0.5万元", "元", "5000"),
        ("1.2万", "元", "12000"),
        ("1.2万", "万元", "12000"),  # an explicit 万 wins over the column's unit
        ("3亿元", "元", "300000000"),
        ("0.5", "万元", "5000"),  # 双公示 罚款金额(万元)
        ("12", "元", "12"),
        ("１２，３４５元", "元", "12345"),
        ("¥5000", "元", "5000"),
        ("￥5,000.00元", "元", "5000"),
        ("人民币5000元", "元", "5000"),
        ("伍仟元", "元", "5000"),
        ("三万元", "元", "30000"),
        ("壹万贰仟元整", "元", "12000"),
        ("一千零五元", "元", "1005"),
        ("十五万元", "元", "150000"),
        ("一亿二千万元", "元", "120000000"),
        ("人民币伍佰元整", "元", "500"),
        ("壹佰元伍角", "元", "100.5"),
        ("5元3角2分", "元", "5.32"),
        ("1万5000元", "元", "15000"),
        ("0", "万元", "0"),
        (5000, "元", "5000"),
        (0.5, "万元", "5000"),
        (Decimal("1.25"), "万元", "12500"),
    ],
)
def test_parse_amount_yuan(raw: object, unit: str, expected: str) -> None:
    assert parse_amount_yuan(raw, unit=unit) == Decimal(expected)


def test_amount_result_prints_without_exponent_or_trailing_zeros() -> None:
    assert str(parse_amount_yuan("0.5万元")) == "5000"
    assert str(parse_amount_yuan("5,000.50")) == "5000.5"


@pytest.mark.parametrize("raw", [None, "", "-", "无", "暂无", float("nan")])
def test_parse_amount_empty_markers_are_none(raw: object) -> None:
    assert parse_amount_yuan(raw) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("-5", "negative"),
        ("−5元", "negative"),
        (-1, "negative"),
        ("abc", "unexpected"),
        ("1,2", "unexpected"),
        ("5元x", "after 元"),
        ("万元", "without a number"),
        ("元", "no number"),
        ("1.2.3", "unexpected"),
        ("一二三元", "two numerals"),
        ("1000-2000元", "unexpected"),
        (float("inf"), "finite"),
        (1e28, "implausibly large"),
        ("一万万亿元", "implausibly large"),
        (True, "boolean"),
    ],
)
def test_parse_amount_rejects_with_value_in_message(raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_amount_yuan(raw)
    assert repr(raw) in str(caught.value)


def test_parse_amount_rejects_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unknown unit '千克'"):
        parse_amount_yuan("5", unit="千克")


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False).map(abs))
def test_amount_round_trips_through_text_in_both_units(amount: Decimal) -> None:
    assert parse_amount_yuan(f"{amount:,f}元") == amount
    assert parse_amount_yuan(f"{amount / 10000:f}", unit="万元") == amount


# ----------------------------------------------------------------------------------- personal IDs

REAL_SHAPED_ID = make_id("37282719630101893")  # region 372827, born 1963-01-01


def test_is_personal_id() -> None:
    assert is_personal_id(REAL_SHAPED_ID)
    assert is_personal_id("11010519491231002X")  # check character X (GB 11643 example)
    assert is_personal_id("11010519491231002x")
    assert not is_personal_id("110105194912310021")  # wrong check character
    assert not is_personal_id(make_id("11010519491331002"))  # month 13
    assert is_personal_id("372827630101893")  # legacy 15 digits, born 1963-01-01
    assert not is_personal_id("372827631301893")
    assert not is_personal_id("3728271963****8934")
    assert not is_personal_id(None)
    assert not is_personal_id("914101086905876455")  # a real USCC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("372827196301018934", "372*************34"),
        ("3728271963****8934", "372*************34"),  # as zxgk publishes it
        ("372827********8934", "372*************34"),
        ("11010519491231002x", "110*************2X"),
        ("３７２８２７１９６３０１０１８９３４", "372*************34"),
        ("372827630101893", "372**********93"),
        ("372*************34", "372*************34"),
    ],
)
def test_mask_id_number(raw: str, expected: str) -> None:
    assert mask_id_number(raw) == expected


@pytest.mark.parametrize("raw", ["91320322MABLP2X24R", "3728271963018934", "E12345678", "37282719630101893A"])
def test_mask_id_number_rejects_other_shapes_without_quoting_them_in_full(raw: str) -> None:
    with pytest.raises(ValueError, match="not a personal ID number") as caught:
        mask_id_number(raw)
    assert raw not in str(caught.value)


def test_mask_personal_ids_in_text() -> None:
    text = (
        "当事人马玉存（身份证号3728271963****8934）与张三(11010519491231002X)、李四372827630101893，"
        "单位914101086905876455，统一社会信用代码91110108551385082Q，罚款5000元，电话13800138000。"
    )
    masked = mask_personal_ids_in_text(text)
    assert "372*************34" in masked
    assert "110*************2X" in masked
    assert "372**********93" in masked
    assert "3728271963" not in masked and "19491231" not in masked and "630101" not in masked
    # Public company codes and other numbers stay readable.
    assert "914101086905876455" in masked
    assert "91110108551385082Q" in masked
    assert "13800138000" in masked and "5000元" in masked
    assert mask_personal_ids_in_text(masked) == masked
    assert mask_personal_ids_in_text("") == ""


def test_mask_in_text_spares_only_codes_that_are_not_ids() -> None:
    # An all-digit valid USCC that is ALSO a valid ID number is masked: privacy wins the tie.
    both = next(
        code
        for code in (make_id(f"11010519800101{n:03d}") for n in range(1000))
        if stdnum_uscc.is_valid(code)
    )
    assert mask_personal_ids_in_text(f"号码{both}。") == f"号码{both[:3]}{'*' * 13}{both[-2:]}。"
    # Longer digit runs (bank cards, 19 digits) are not ID numbers.
    assert mask_personal_ids_in_text("账号6222021234567890123") == "账号6222021234567890123"


# region, birth date 1950..2019 (days 01..28 so every month is valid), sequence number.
id_first17 = st.from_regex(
    r"[1-6][0-9]{5}(19[5-9][0-9]|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", fullmatch=True
)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """Valid 18- or 15-character ID numbers, some already partly masked as courts publish them."""
    number = make_id(draw(id_first17))
    if draw(st.booleans()):
        number = number[:6] + number[8:17]  # legacy 15-digit form
    stars = draw(st.sets(st.integers(min_value=0, max_value=len(number) - 1), max_size=8))
    return "".join("*" if i in stars else c for i, c in enumerate(number))


@given(id_numbers())
def test_masking_is_idempotent_and_keeps_at_most_five_characters(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert mask_id_number(masked) == masked
    visible = [(i, c) for i, c in enumerate(masked) if c != "*"]
    assert len(visible) <= 5
    assert all(number[i].upper() == c for i, c in visible)


filler = st.text(alphabet=st.sampled_from("当事人身份证号码为，。、（）():张三李四罚款元 abcXYZ"),
                 max_size=12)


@given(filler, id_numbers(), filler)
def test_masking_in_text_hides_the_middle_and_is_idempotent(before: str, number: str, after: str) -> None:
    masked = mask_personal_ids_in_text(before + number + after)
    assert masked == before + mask_id_number(number) + after
    assert mask_personal_ids_in_text(masked) == masked


# -------------------------------------------------------------------------------- licence numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("京B2-20090007", "京B2-20090007"),
        ("B1-20234898", "B1-20234898"),
        ("合字B2-20090007", "合字B2-20090007"),
        ("浙b2－20250178", "浙B2-20250178"),
        (" 沪 B2 - 20230242 ", "沪B2-20230242"),
        ("湘Ｂ２—２０２０００２７", "湘B2-20200027"),
        ("粵B2-20200964", "粤B2-20200964"),  # traditional province abbreviation
        ("A2-20180001", "A2-20180001"),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_normalise_licence_number(raw: str | None, expected: str | None) -> None:
    assert normalise_licence_number(raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        "京B2-2009000",
        "京B3-20090007",
        "京C2-20090007",
        "美B2-20090007",
        "京ICP证000001号",
        "A2.B1.B2-20090007",
        "京B2-20090007号",
    ],
)
def test_normalise_licence_number_rejects_with_value_in_message(raw: str) -> None:
    with pytest.raises(ValueError, match="not a telecom licence number") as caught:
        normalise_licence_number(raw)
    assert repr(raw) in str(caught.value)


def test_a_company_registration_number_is_not_masked_but_a_legacy_id_is() -> None:
    """A 15-digit 工商注册号 with its MOD 11,10 check is a company's public number; a 15-digit run that is
    not one (or that is also a valid legacy ID number) is masked: privacy wins ties."""
    from pipelines.normalise import mask_personal_ids_in_text

    assert mask_personal_ids_in_text("注册号110000012345673") == "注册号110000012345673"
    assert mask_personal_ids_in_text("注册号110000012345678") == "注册号110**********78"
    assert mask_personal_ids_in_text("身份证110101800101001") == "身份证110**********01"
