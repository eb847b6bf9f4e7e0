"""Pure normalisation functions shared by the spiders, the item pipelines and the record linker.

Text (clean_text, to_simplified, name_key), dates (parse_date), money (parse_amount_yuan), personal ID
numbers (公民身份号码, GB 11643: is_personal_id, mask_id_number, mask_personal_ids_in_text) and
telecom licence numbers (电信业务经营许可证编号: normalise_licence_number).

Every function that rejects a value raises ValueError quoting the value (personal ID numbers are quoted
masked), so the pipeline can quarantine the record with a readable reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import secrets
import string
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import opencc
from stdnum.cn import ric as _stdnum_ric
from stdnum.iso7064 import mod_11_10

from pipelines.uscc import is_valid_uscc

# --------------------------------------------------------------------------------------------- text

# Invisible characters that NFKC keeps and `\s` does not match; they render as nothing, so they are
# deleted rather than turned into a space (a ZWSP inside 北京​科技 must not split the name).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_WHITESPACE = re.compile(r"\s+")  # str patterns are Unicode-aware: U+3000, NBSP, U+2028 … included


def clean_text(value: object) -> str | None:
    """Cleaned text, or None for None/empty/whitespace-only.

    NFKC (full-width → half-width, （）→ ()), zero-width characters removed, every run of whitespace
    (incl. U+3000 ideographic space and NBSP) collapsed to one space, ends stripped.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    text = unicodedata.normalize("NFKC", value if isinstance(value, str) else str(value))
    text = _WHITESPACE.sub(" ", _INVISIBLE.sub("", text)).strip()
    return text or None


@functools.cache
def _t2s() -> opencc.OpenCC:
    # Building the converter loads its dictionaries (a few ms); do it once per process.
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s), for matching keys only; keep the original elsewhere."""
    return _t2s().convert(text) if text else text


# ASCII punctuation and symbols, plus every Unicode punctuation category (CJK 、。「」《》· etc.).
_ASCII_PUNCT: Final = frozenset(string.punctuation)


def _is_dropped_in_key(char: str) -> bool:
    return char in _ASCII_PUNCT or char.isspace() or unicodedata.category(char).startswith("P")


def name_key(name: str) -> str:
    """Matching key of an organisation name (名称): equal keys mean "same name" for the linker.

    clean_text → simplified Chinese → lower-case → no spaces or punctuation (ASCII and CJK) →
    有限责任公司 rewritten as 有限公司 (the two legal forms are written interchangeably). Idempotent.
    Returns "" for an empty name.
    """
    text = clean_text(name)
    if text is None:
        return ""
    text = to_simplified(text).lower()
    text = "".join(c for c in text if not _is_dropped_in_key(c))
    # lower() and t2s can, for rare characters, produce a non-NFKC string; renormalise so key is a fixpoint.
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if not _is_dropped_in_key(c))
    return text.replace("有限责任公司", "有限公司")


# --------------------------------------------------------------------------------------------- dates

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
MIN_YEAR: Final = 1949
MAX_YEAR: Final = 2100

_NULL_TOKENS: Final = frozenset({"", "-", "--", "—", "无", "暂无", "null", "none", "nan", "nat"})

_YMD_CN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_YMD_SEP = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
# Optional time after the date; the date is taken as written unless an explicit UTC offset is given.
_TIME = re.compile(r"(?:[ T]?\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?")


def _is_null_token(text: str) -> bool:
    return text.lower() in _NULL_TOKENS


def _checked_date(year: int, month: int, day: int, original: object) -> dt.date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"date {original!r}: year {year} outside {MIN_YEAR}..{MAX_YEAR}")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"date {original!r}: no such day {year:04d}-{month:02d}-{day:02d}") from None


def _from_epoch(seconds: Decimal, original: object) -> dt.date:
    try:
        moment = dt.datetime.fromtimestamp(float(seconds), tz=SHANGHAI)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"date {original!r}: epoch value out of range") from None
    return _checked_date(moment.year, moment.month, moment.day, original)


def _parse_digits(digits: str, negative: bool, original: object) -> dt.date:
    """An all-digit value: YYYYMMDD (8), epoch seconds (9–10) or epoch milliseconds (11–13)."""
    n = len(digits)
    if negative:
        # Java/DB dumps give pre-1970 dates as negative epoch ms; 11–12 digits cover 1949-10..1969-09
        # and cannot be seconds in range. Shorter negatives are ambiguous, so rejected.
        if n in (11, 12):
            return _from_epoch(-Decimal(digits) / 1000, original)
        raise ValueError(f"date {original!r}: negative number is not an epoch-milliseconds date")
    if n == 8:
        return _checked_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]), original)
    if n in (9, 10):
        return _from_epoch(Decimal(digits), original)
    if n in (11, 12, 13):
        return _from_epoch(Decimal(digits) / 1000, original)
    raise ValueError(f"date {original!r}: {n}-digit number is neither YYYYMMDD nor an epoch timestamp")


def _parse_date_text(text: str, original: object) -> dt.date:
    number = re.fullmatch(r"(-?)(\d+)(?:\.0+)?", text)
    if number:
        return _parse_digits(number.group(2), bool(number.group(1)), original)
    for pattern in (_YMD_CN, _YMD_SEP):
        head = pattern.match(text)
        if not head:
            continue
        groups = head.groups()
        year, month, day = int(groups[0]), int(groups[-2]), int(groups[-1])
        tail = _TIME.fullmatch(text[head.end():])
        if tail is None:
            break
        date = _checked_date(year, month, day, original)
        hour, minute, second, offset = tail.groups()
        if offset is None:
            return date
        # Explicit offset (ISO "…Z" / "+00:00"): the calendar day that instant falls on in China.
        try:
            moment = dt.datetime(year, month, day, int(hour), int(minute), int(second or 0),
                                 tzinfo=dt.datetime.strptime(offset.replace("Z", "+0000").replace(":", ""),
                                                             "%z").tzinfo)
        except ValueError:
            raise ValueError(f"date {original!r}: bad time of day or offset") from None
        local = moment.astimezone(SHANGHAI)
        return _checked_date(local.year, local.month, local.day, original)
    raise ValueError(f"unrecognised date {original!r}")


def parse_date(value: object) -> dt.date | None:
    """A date from any format the registries publish, or None for an empty marker (""/-/无/暂无/null).

    Accepts 2024年3月5日, 2024-03-05, 2024/3/5, 2024.3.5, 20240305, "2024-03-05 12:30:00", ISO with T
    (with an offset, the day in Asia/Shanghai), epoch seconds (10 digits) and milliseconds (13 digits,
    int or str; also 12-digit ms for 1973–2001 and negative ms before 1970), full-width digits, and
    date/datetime objects. Epoch values are read in Asia/Shanghai. Raises ValueError quoting the value
    for anything else, an impossible day (2024-02-30) or a year outside 1949..2100.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"date {value!r}: a boolean is not a date")
    if isinstance(value, dt.date) and value != value:  # pandas NaT (a datetime that is not equal to itself)
        return None
    if isinstance(value, dt.datetime):
        moment = value.astimezone(SHANGHAI) if value.tzinfo is not None else value
        return _checked_date(moment.year, moment.month, moment.day, value)
    if isinstance(value, dt.date):
        return _checked_date(value.year, value.month, value.day, value)
    if isinstance(value, float):
        if value != value:  # NaN: pandas' missing cell
            return None
        if not value.is_integer():
            raise ValueError(f"date {value!r}: fractional number is not a date")
        value = int(value)
    if isinstance(value, int):
        return _parse_digits(str(abs(value)), value < 0, value)
    if not isinstance(value, str):
        raise ValueError(f"date {value!r}: unsupported type {type(value).__name__}")
    text = clean_text(value)
    if text is None or _is_null_token(text):
        return None
    return _parse_date_text(text, value)


# --------------------------------------------------------------------------------------------- money

# Multipliers of the units a bare number may carry (a 双公示 罚款金额(万元) column passes unit="万元").
UNITS: Final = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}

# Digit characters by value: lower-case, 大写 (financial) and traditional forms.
_CN_DIGITS: Final = {
    char: value
    for value, chars in enumerate(
        ["零〇", "一壹", "二贰貳两兩", "三叁參", "四肆", "五伍", "六陆陸", "七柒", "八捌", "九玖"]
    )
    for char in chars
}
_CN_SMALL_UNITS: Final = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG_UNITS: Final = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_YUAN_CHARS: Final = ("元", "圆", "圓")
_CURRENCY_NOISE = re.compile(r"^(?:人民币|rmb|cny)|¥|(?:人民币|rmb|cny)$", re.IGNORECASE)
# Thousands separators only where they group digits in threes: "1,2" stays an error.
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|.", re.DOTALL)


def _parse_cn_number(text: str, original: object) -> Decimal:
    """A number in Arabic and/or Chinese numerals with 十百千万亿 units: 伍仟, 三万, 1.2万, 一亿二千万."""
    total = Decimal(0)  # completed 亿 sections
    section = Decimal(0)  # completed part below the next 亿
    current: Decimal | None = None  # digit(s) waiting for a unit
    tokens = _TOKEN.findall(text)
    if not tokens:
        raise ValueError(f"amount {original!r}: no number")
    for token in tokens:
        if token[0].isdigit():
            if current is not None:
                raise ValueError(f"amount {original!r}: two numbers in a row")
            current = Decimal(token)
        elif token in _CN_DIGITS:
            if current is not None and current != 0 and _CN_DIGITS[token] != 0:
                raise ValueError(f"amount {original!r}: two numerals in a row")
            current = Decimal(_CN_DIGITS[token]) if token not in "零〇" or current is None else current
        elif token in _CN_SMALL_UNITS:
            section += (Decimal(1) if current is None else current) * _CN_SMALL_UNITS[token]
            current = None
        elif token in _CN_BIG_UNITS:
            unit = _CN_BIG_UNITS[token]
            value = section + (current or 0)
            if value == 0:
                raise ValueError(f"amount {original!r}: {token} without a number")
            if unit == 100_000_000:
                total = (total + value) * unit
                section = Decimal(0)
            else:
                section = value * unit
            current = None
        else:
            raise ValueError(f"amount {original!r}: unexpected {token!r}")
    return total + section + (current or 0)


def _numeral_value(char: str, original: object) -> int:
    if char.isascii() and char.isdigit():
        return int(char)
    if char in _CN_DIGITS:
        return _CN_DIGITS[char]
    raise ValueError(f"amount {original!r}: {char!r} is not a digit")


def _parse_fraction_of_yuan(text: str, original: object) -> Decimal:
    """What follows 元: nothing, 整/正, or 角/分 (伍角, 3角5分)."""
    text = text.removesuffix("整").removesuffix("正")
    if not text:
        return Decimal(0)
    match = re.fullmatch(r"(?:(.)角)?(?:(.)分)?", text)
    if not match or not any(match.groups()):
        raise ValueError(f"amount {original!r}: unexpected {text!r} after 元")
    jiao, fen = (_numeral_value(g, original) if g else 0 for g in match.groups())
    return Decimal(jiao) / 10 + Decimal(fen) / 100


# 1,000 万亿元: far above any real penalty (the largest are ~10^10). Beyond it a value is a data error,
# and Decimal's 28-digit context could no longer hold it exactly.
MAX_AMOUNT_YUAN: Final = Decimal(10) ** 15


def _tidy(amount: Decimal, original: object) -> Decimal:
    if amount > MAX_AMOUNT_YUAN:
        raise ValueError(f"amount {original!r}: implausibly large (over {MAX_AMOUNT_YUAN:,f} yuan)")
    # Equal amounts print alike: 5000, not 5000.00 or 5.0E+3.
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()


def parse_amount_yuan(value: object, unit: str = "元") -> Decimal | None:
    """An amount of money in yuan (元), or None for an empty marker.

    "5000元", "5,000.00", "0.5万元", "1.2万", "3亿元", "¥5000", full-width digits, Chinese numerals
    ("伍仟元", "三万元", "壹万贰仟元整", "5元5角"). A bare number (no 元/万/亿) is in `unit` ("元", "万元"
    or "亿元"): the 双公示 column 罚款金额(万元) passes unit="万元". Negative or unparseable → ValueError.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {sorted(UNITS)}")
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"amount {value!r}: a boolean is not an amount")
    if isinstance(value, float) and value != value:  # NaN: pandas' missing cell
        return None
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise ValueError(f"amount {value!r}: not a number") from None
        if not number.is_finite():
            raise ValueError(f"amount {value!r}: not a finite number")
        if number < 0:
            raise ValueError(f"amount {value!r}: negative")
        return _tidy(number * UNITS[unit], value)
    if not isinstance(value, str):
        raise ValueError(f"amount {value!r}: unsupported type {type(value).__name__}")
    text = clean_text(value)
    if text is None or _is_null_token(text):
        return None
    text = _CURRENCY_NOISE.sub("", _THOUSANDS.sub("", text.replace(" ", ""))).strip()
    if text.startswith(("-", "−")):
        raise ValueError(f"amount {value!r}: negative")
    if not text:
        raise ValueError(f"amount {value!r}: no number")
    yuan_at = next((i for i, c in enumerate(text) if c in _YUAN_CHARS), -1)
    if yuan_at >= 0:
        head, fraction = text[:yuan_at], _parse_fraction_of_yuan(text[yuan_at + 1:], value)
        # "万元"/"亿元" multiply; a lone "千元" too, through the numeral parser.
        amount = _parse_cn_number(head, value) + fraction if head else None
        if amount is None:
            raise ValueError(f"amount {value!r}: no number before 元")
        return _tidy(amount, value)
    amount = _parse_cn_number(text, value)
    explicit = any(c in _CN_BIG_UNITS for c in text)
    return _tidy(amount if explicit else amount * UNITS[unit], value)


# ------------------------------------------------------------------------------------ personal IDs

_MASK = "*"
_KEEP_HEAD, _KEEP_TAIL = 3, 2
_ID_SHAPE = re.compile(r"[0-9*]{17}[0-9X*]|[0-9*]{15}")
# Inside free text: a run of 18 (last may be X) or 15 ID characters, not part of a longer digit run.
# Adjacent letters do not protect a run ("ID372827…" is still an ID): privacy before precision.
_DIGIT = "0-9０-９"
_STAR = "*＊"
_SEP = r"(?:\s*[-‐‑‒–—―−﹣－_]\s*|\s+)"  # how people split an ID: 110101 19800101 0010, 110101-19800101-0010
_D, _DS, _LAST = f"[{_DIGIT}{_STAR}]", f"[{_DIGIT}{_STAR}]", f"[{_DIGIT}{_STAR}XxＸｘ]"
_ID_IN_TEXT = re.compile(
    rf"(?<![{_DIGIT}{_STAR}])"
    rf"(?:{_D}{{17}}{_LAST}|{_D}{{15}}"
    # grouped as printed on the card: region (6) · birth date (8, legacy 6) · sequence and check (4, legacy 3)
    rf"|{_D}{{6}}{_SEP}{_DS}{{8}}{_SEP}{_DS}{{3}}{_LAST}|{_D}{{6}}{_SEP}{_DS}{{6}}{_SEP}{_DS}{{3}})"
    rf"(?![{_DIGIT}{_STAR}])"
)


def _birth_date_ok(year: int, month: int, day: int) -> bool:
    try:
        birth = dt.date(year, month, day)
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= birth <= dt.date.today()


def is_personal_id(value: object) -> bool:
    """True for a well-formed 公民身份号码 (PRC resident ID number, GB 11643).

    18 characters: 17 digits + check character (digit or X) that passes the GB 11643 mod-11 check, with
    a real birth date (1900..today) at positions 7–14. Legacy 15-digit numbers (no check character):
    all digits with a real 19YYMMDD birth date at positions 7–12. The region code is not checked.
    """
    if not isinstance(value, str):
        return False
    number = unicodedata.normalize("NFKC", value).strip().upper()
    if len(number) == 18 and number[:17].isascii() and number[:17].isdigit() and number[17] in "0123456789X":
        if _stdnum_ric.calc_check_digit(number) != number[17]:
            return False
        return _birth_date_ok(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if len(number) == 15 and number.isascii() and number.isdigit():
        return _birth_date_ok(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return False


def _masked(run: str) -> str:
    return run[:_KEEP_HEAD] + _MASK * (len(run) - _KEEP_HEAD - _KEEP_TAIL) + run[-_KEEP_TAIL:]


def _redacted_for_message(value: str) -> str:
    # Error messages end up in quarantine files: never quote a personal ID in full.
    return _masked(value) if len(value) > _KEEP_HEAD + _KEEP_TAIL else _MASK * len(value)


def mask_id_number(value: str) -> str:
    """Masked 公民身份号码: first 3 and last 2 characters kept, the rest '*', length preserved.

    Takes 18-character (last may be X) or legacy 15-digit numbers, also already partly masked as courts
    publish them ("3728271963****8934" → "372*************34"); idempotent. Raises ValueError (quoting
    the value masked) for anything not shaped like an ID number.
    """
    if not isinstance(value, str):
        raise ValueError(f"personal ID number must be text, got {type(value).__name__}")
    number = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    if not _ID_SHAPE.fullmatch(number):
        raise ValueError(f"not a personal ID number (公民身份号码): {_redacted_for_message(number)!r} "
                         f"({len(number)} characters; expected 18, or 15 digits)")
    return _masked(number)


def _mask_match(match: re.Match[str]) -> str:
    run = re.sub(r"[^0-9*XxＸｘ０-９＊]", "", match.group(0))  # a grouped ID is masked as one run
    plain = unicodedata.normalize("NFKC", run).upper()
    # A company's 统一社会信用代码 is public and needed; an all-digit one can look like an ID number.
    # Only a code that is a valid USCC and NOT a valid personal ID is spared (privacy wins ties).
    if len(plain) == 18 and is_valid_uscc(plain) and not is_personal_id(plain):
        return match.group(0)
    # Likewise a company's 15-digit 工商注册号 (registration number before the USCC; its last digit is an ISO
    # 7064 MOD 11,10 check), when it is not also a valid legacy 15-digit ID number.
    if len(plain) == 15 and plain.isdigit() and mod_11_10.is_valid(plain) and not is_personal_id(plain):
        return match.group(0)
    return _masked(run)


def mask_personal_ids_in_text(text: str) -> str:
    """`text` with every personal-ID-looking run (18 or 15 characters, optionally already partly masked,
    full-width digits included) masked as mask_id_number does. Valid USCCs that are not valid personal IDs
    are left alone. Idempotent."""
    if not text:
        return text
    return _ID_IN_TEXT.sub(_mask_match, text)


def mask_personal_ids_deep(value: Any) -> Any:
    """`value` with personal ID numbers masked in every string inside it (dicts and lists walked; keys kept)."""
    if isinstance(value, str):
        return mask_personal_ids_in_text(value)
    if isinstance(value, dict):
        return {k: mask_personal_ids_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_personal_ids_deep(v) for v in value]
    return value


# A record's natural key (its registry's own key: decision number, case code …) sometimes holds a personal
# ID number. Masking alone would merge different people's records, and a plain hash of an ID is undone by
# trying every ID (~10¹¹ of them), so such a key becomes the masked key plus an HMAC-SHA256 of the raw key
# under a secret kept beside the warehouse (masking.key, owner-only, made on first need). Same raw key,
# same protected key on every run; no raw ID stored anywhere. Keys without an ID stay as published.
KEY_HASH_MARK = "~h"
KEY_HASH_CHARS = 24  # 96 bits of the HMAC: no collisions among a registry's records


def protect_natural_key(key: str, secret: Callable[[], bytes]) -> str:
    """The natural key to store: `key` itself, or, when it holds a personal ID number, the masked key with
    an HMAC of the raw key (`secret()` is called only then). Idempotent on a protected key."""
    masked = mask_personal_ids_in_text(key)
    if masked == key:
        return key
    digest = hmac.new(secret(), key.encode("utf-8"), hashlib.sha256).hexdigest()[:KEY_HASH_CHARS]
    return f"{masked}{KEY_HASH_MARK}{digest}"


def masking_secret(path: Path) -> bytes:
    """The masking key in `path`, created (32 random bytes, mode 0600) when there is none yet."""
    try:
        return bytes.fromhex(path.read_text("ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return bytes.fromhex(path.read_text("ascii").strip())
    with os.fdopen(handle, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text("ascii").strip())


# ---------------------------------------------------------------------------------- licence numbers

# 电信业务经营许可证编号 (registries.md §3.1): optional province abbreviation or 合字 (foreign-invested),
# then A/B category, 1/2 class, '-' and 8 digits.
LICENCE_NUMBER = re.compile(
    r"^(?:[京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂藏宁新]|合字)?[AB][12]-\d{8}$"
)
_DASHES = re.compile(r"[‐‑‒–—―−﹣－]")


def normalise_licence_number(value: str) -> str | None:
    """Canonical 电信业务经营许可证编号 (e.g. "京B2-20090007"), None for an empty value.

    NFKC, whitespace removed, ASCII upper-cased, dash variants → '-', traditional province abbreviations
    simplified (滬 → 沪). Raises ValueError quoting the value if the result is not a licence number.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"licence number {value!r}: expected text, got {type(value).__name__}")
    text = re.sub(r"\s+", "", _INVISIBLE.sub("", unicodedata.normalize("NFKC", value)))
    if not text:
        return None
    text = to_simplified(_DASHES.sub("-", text)).upper()
    if not LICENCE_NUMBER.match(text):
        raise ValueError(f"not a telecom licence number (电信业务经营许可证编号): {value!r}")
    return text
