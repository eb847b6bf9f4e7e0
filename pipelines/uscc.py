"""统一社会信用代码 (Unified Social Credit Code, USCC, GB 32100-2015): cleaning and validation.

Layout of the 18 characters (registries.md §6):
  1     登记管理部门代码 (registration authority: 1 机构编制, 5 民政, 9 工商, N 农业, Y 其他, ...)
  2     机构类别代码 (entity category within that authority)
  3-8   登记管理机关行政区划码 (GB/T 2260 region code)
  9-17  主体标识码 (the 组织机构代码, organisation code, GB 11714, with its own check character at 17)
  18    校验码 (mod-31 check character)

python-stdnum's `stdnum.cn.uscc.validate` requires the first 8 characters to be digits, so it rejects
legitimate codes that start with a letter (N… 农村集体经济组织, Y…, A…). We therefore do the format check
here and use stdnum only for what it gets right: `compact` and `calc_check_digit`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from stdnum.cn import uscc as _stdnum_uscc

# GB 32100 alphabet: digits and upper-case Latin letters except I, O, S, V, Z.
ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ALPHABET_SET: Final = frozenset(ALPHABET)
USCC_LENGTH: Final = 18

REASONS: Final = frozenset({"empty", "length", "character", "checksum"})

# Separators people type or sites render inside a code; NFKC has already turned full-width forms into these.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―]+")

ENTITY_KINDS: Final = frozenset(
    {"enterprise", "individual_business", "farmer_coop", "government_agency", "public_institution",
     "social_org", "other"}
)

# Positions 1–2 → entity kind. Only the categories the pipeline acts on are told apart; the rest is "other".
_KIND_BY_PREFIX: Final = {
    "91": "enterprise",  # 工商 · 企业
    "92": "individual_business",  # 工商 · 个体工商户 (a natural person's business: personal data)
    "93": "farmer_coop",  # 工商 · 农民专业合作社
    "11": "government_agency",  # 机构编制 · 机关
    "12": "public_institution",  # 机构编制 · 事业单位
    "51": "social_org",  # 民政 · 社会团体
    "52": "social_org",  # 民政 · 民办非企业单位 (社会服务机构)
    "53": "social_org",  # 民政 · 基金会
    "59": "social_org",  # 民政 · 其他
}

# The one prefix that marks a natural person's business (个体工商户): its records are personal data. Read by
# the models (SQL variable personal_uscc_prefix, set by the build) and the purge.
PERSONAL_USCC_PREFIX: Final = next(p for p, kind in _KIND_BY_PREFIX.items() if kind == "individual_business")

# GB 11714 组织机构代码 check over positions 9–17: weights for the 8 body characters.
_ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)


class InvalidUSCC(ValueError):
    """An invalid 统一社会信用代码. `reason` is one of "empty", "length", "character", "checksum"."""

    def __init__(self, value: object, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown InvalidUSCC reason {reason!r}")
        self.value = value
        self.reason = reason
        message = f"invalid USCC (统一社会信用代码) {value!r}: {reason}"
        super().__init__(f"{message} ({detail})" if detail else message)


def compact_uscc(value: str) -> str:
    """Minimal form of a 统一社会信用代码: NFKC (full-width → ASCII), no spaces or dashes, upper-case."""
    if isinstance(value, int) and not isinstance(value, bool):
        # JSON and spreadsheets hand all-digit codes over as numbers.
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"USCC must be a str, got {type(value).__name__}: {value!r}")
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    return _stdnum_uscc.compact(text)


def validate_uscc(value: str) -> str:
    """Return the compact 统一社会信用代码 or raise InvalidUSCC (reason: empty/length/character/checksum)."""
    if value is None:
        raise InvalidUSCC(value, "empty")
    try:
        code = compact_uscc(value)
    except TypeError as error:
        raise InvalidUSCC(value, "character", str(error)) from None
    if not code:
        raise InvalidUSCC(value, "empty")
    if len(code) != USCC_LENGTH:
        raise InvalidUSCC(value, "length", f"{len(code)} characters, expected {USCC_LENGTH}")
    bad = [(i + 1, c) for i, c in enumerate(code) if c not in _ALPHABET_SET]
    if bad:
        where = ", ".join(f"{c!r} at position {pos}" for pos, c in bad)
        raise InvalidUSCC(value, "character", f"not in the GB 32100 alphabet: {where}")
    expected = _stdnum_uscc.calc_check_digit(code[:-1])
    if code[-1] != expected:
        raise InvalidUSCC(value, "checksum", f"check character {code[-1]!r}, expected {expected!r}")
    return code


def is_valid_uscc(value: str | None) -> bool:
    """True when `value` is a valid 统一社会信用代码 (alphabet and mod-31 check)."""
    try:
        validate_uscc(value)  # type: ignore[arg-type]
    except InvalidUSCC:
        return False
    return True


def uscc_entity_kind(code: str) -> str | None:
    """Entity kind from positions 1–2 (登记管理部门 + 机构类别), or None when the code is invalid.

    One of ENTITY_KINDS: "enterprise" (91 企业), "individual_business" (92 个体工商户 — marks personal data),
    "farmer_coop" (93 农民专业合作社), "government_agency" (11 机关), "public_institution" (12 事业单位),
    "social_org" (5x 社会组织), "other".
    """
    if not is_valid_uscc(code):
        return None
    return _KIND_BY_PREFIX.get(compact_uscc(code)[:2], "other")


def _org_code_value(char: str) -> int:
    # GB 11714 values: digits as themselves, letters A=10 … Z=35.
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_code_check_char(body: str) -> str:
    """GB 11714 组织机构代码 check character for the 8-character body (positions 9–16 of a USCC)."""
    if len(body) != 8 or not all(c.isascii() and c.isalnum() for c in body):
        raise ValueError(f"organisation code body must be 8 ASCII letters/digits, got {body!r}")
    total = sum(_org_code_value(c) * w for c, w in zip(body.upper(), _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def org_code_check_ok(code: str) -> bool:
    """Second-level check: does the embedded 组织机构代码 (positions 9–17) pass its GB 11714 check?

    False for an invalid USCC. Meant as a sanity flag, not a validity test: some registries issue codes
    whose positions 9–17 are not a GB 11714 code.
    """
    if not is_valid_uscc(code):
        return False
    compact = compact_uscc(code)
    return org_code_check_char(compact[8:16]) == compact[16]
