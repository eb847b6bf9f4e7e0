"""统一社会信用代码 (USCC, GB 32100-2015) validation: real codes, each failure reason, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from pipelines.uscc import (
    ALPHABET,
    ENTITY_KINDS,
    InvalidUSCC,
    compact_uscc,
    is_valid_uscc,
    org_code_check_char,
    org_code_check_ok,
    uscc_entity_kind,
    validate_uscc,
)

REAL_CODES = ["91110108551385082Q", "91110000600037341L", "91320322MABLP2X24R", "914101086905876455"]


def make_code(first17: str) -> str:
    """A valid code from 17 characters, check character computed by python-stdnum."""
    return first17 + stdnum_uscc.calc_check_digit(first17)


# N2 = 农业 · 村级集体经济组织; body chosen so its own GB 11714 check also holds.
N_CODE = make_code("N2110108" + "12345678" + org_code_check_char("12345678"))


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_validate_to_themselves(code: str) -> None:
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)
    assert uscc_entity_kind(code) == "enterprise"
    assert org_code_check_ok(code)


def test_letter_prefixed_code_is_valid_although_stdnum_rejects_it() -> None:
    with pytest.raises(ValidationError):
        stdnum_uscc.validate(N_CODE)  # the python-stdnum bug this module works around
    assert validate_uscc(N_CODE) == N_CODE
    assert uscc_entity_kind(N_CODE) == "other"
    assert org_code_check_ok(N_CODE)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("９１１１０１０８５５１３８５０８２Ｑ", "91110108551385082Q"),  # full-width
        ("91110108551385082q", "91110108551385082Q"),
        (" 9111-0108 5513 85082Q\t", "91110108551385082Q"),
        ("9111\u30000108－551385082Q", "91110108551385082Q"),  # ideographic space, full-width hyphen
        (914101086905876455, "914101086905876455"),  # all-digit code handed over as a number
    ],
)
def test_compact_and_validate_accept_messy_forms(raw: str, expected: str) -> None:
    assert validate_uscc(raw) == expected


def test_compact_keeps_invalid_characters_for_the_validator_to_report() -> None:
    assert compact_uscc(" ab-c ") == "ABC"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("  - ", "empty"),
        (None, "empty"),
        ("9111010855138508", "length"),
        ("91110108551385082QQ", "length"),
        ("91110108551385O82Q", "character"),  # letter O
        ("9111010855138I082Q", "character"),
        ("91110108551385082Z", "character"),
        ("9111010855138508２S", "character"),
        ("91110108551385082R", "checksum"),
        ("91110000600037341K", "checksum"),
        ("91320322MABLP2X24Q", "checksum"),
        ("914101086905876454", "checksum"),
    ],
)
def test_invalid_codes_raise_with_reason_and_name_the_code(raw: str | None, reason: str) -> None:
    with pytest.raises(InvalidUSCC) as caught:
        validate_uscc(raw)  # type: ignore[arg-type]
    assert caught.value.reason == reason
    assert reason in str(caught.value)
    assert repr(raw) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert not is_valid_uscc(raw)


def test_character_error_points_at_the_position() -> None:
    with pytest.raises(InvalidUSCC, match="'O' at position 15"):
        validate_uscc("91110108551385O82Q")


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("91", "enterprise"),
        ("92", "individual_business"),
        ("93", "farmer_coop"),
        ("11", "government_agency"),
        ("12", "public_institution"),
        ("51", "social_org"),
        ("52", "social_org"),
        ("53", "social_org"),
        ("31", "other"),
        ("Y1", "other"),
        ("A1", "other"),
    ],
)
def test_entity_kind_from_first_two_positions(prefix: str, kind: str) -> None:
    code = make_code(prefix + "110108MA01ABCD1")
    assert uscc_entity_kind(code) == kind
    assert kind in ENTITY_KINDS


def test_entity_kind_is_none_for_invalid_code() -> None:
    assert uscc_entity_kind("92110108551385082Q") is None  # prefix changed, checksum now wrong
    assert uscc_entity_kind("") is None


def test_org_code_check_catches_a_bad_embedded_organisation_code() -> None:
    # 91110108551385082Q's 组织机构代码 is 55138508-2; change its check to 3 and recompute the USCC
    # check char: the code passes mod-31 but its organisation code does not pass GB 11714.
    assert org_code_check_char("55138508") == "2"
    bad = make_code("91110108" + "55138508" + "3")
    assert is_valid_uscc(bad)
    assert not org_code_check_ok(bad)
    assert not org_code_check_ok("not a code")


def test_org_code_check_char_rejects_bad_body() -> None:
    with pytest.raises(ValueError, match="'1234'"):
        org_code_check_char("1234")


alphabet_chars = st.sampled_from(ALPHABET)
first17s = st.lists(alphabet_chars, min_size=17, max_size=17).map("".join)
ascii_upper_or_digit = st.characters(codec="ascii", categories=["Lu", "Nd"])


@given(first17s)
def test_round_trip_any_17_characters_plus_check_validates(first17: str) -> None:
    code = make_code(first17)
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code


@given(first17s, st.integers(min_value=0, max_value=17), ascii_upper_or_digit)
def test_any_single_character_change_fails(first17: str, position: int, replacement: str) -> None:
    code = make_code(first17)
    changed = code[:position] + replacement + code[position + 1:]
    if changed == code:
        return
    # 31 is prime and every weight is non-zero mod 31, so a substitution always moves the checksum.
    with pytest.raises(InvalidUSCC) as caught:
        validate_uscc(changed)
    assert caught.value.reason == ("character" if replacement not in ALPHABET else "checksum")
