"""Parse an enterprise name (企业名称) into its parts, per the 企业名称登记管理规定 layout:

    region (行政区划) + trade name (字号) + industry (行业) + legal form (组织形式) [+ branch (分支机构)]

e.g. 北京金山云网络技术有限公司 → region 北京, trade 金山云, industry 网络技术, form 有限公司;
金山云(北京)网络技术有限公司 parses the same (the region may be written in brackets after the trade name).
Parts come back in `name_key` form (simplified, lower-case, no punctuation) so they compare with ==.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pipelines.normalise import clean_text, name_key, to_simplified
from transforms.link.vocab import (
    BRANCH_WORDS,
    INDUSTRIES,
    INDUSTRY_MAX_LEN,
    LEGAL_FORMS,
    REGION_MAX_LEN,
    REGIONS,
)


class ParsedName(NamedTuple):
    """The parts of one 企业名称. Empty strings for parts the name does not have."""

    key: str  # name_key of the whole name
    region: str  # canonical 行政区划 (北京市 → 北京)
    trade: str  # 字号, the part that tells companies apart
    industry: str  # 行业表述
    form: str  # 组织形式, e.g. 有限公司 / 股份有限公司


class BranchName(NamedTuple):
    """A 分支机构 name split into its parent's name (simplified text), the branch label and the parent's key."""

    parent: str
    label: str
    parent_key: str


def may_be_branch(key: str) -> bool:
    """Cheap pre-check on a name_key: only names ending in a branch word (分公司 …) can be branches."""
    return key.endswith(BRANCH_WORDS)


_BRACKETS = re.compile(r"\(([^()]*)\)")
_OPEN_BRACKETS = ("(", "（", "﹙", "⁽", "₍")  # every form NFKC turns into "("
_BRANCH_TAIL = re.compile("(" + "|".join(BRANCH_WORDS) + r")$")
# The last legal form inside a branch name ends the parent's name: X有限公司北京分公司 → X有限公司.
_LAST_FORM = re.compile(r"^(.*(?:有限公司|有限责任公司|股份公司|公司))(.*)$")


def simplified_text(name: str) -> str:
    """clean_text + to_simplified + lower-case, punctuation kept (brackets are needed to parse)."""
    text = clean_text(name) or ""
    return to_simplified(text).lower()


def _strip_region_prefix(text: str) -> tuple[str, str]:
    """(canonical region, rest) for the longest region written at the start; ("", text) when none."""
    for length in range(min(REGION_MAX_LEN, len(text) - 1), 1, -1):
        region = REGIONS.get(text[:length])
        if region is not None:
            return region, text[length:]
    return "", text


def _strip_suffix(text: str, words: frozenset[str], max_len: int) -> tuple[str, str]:
    """(longest word of `words` ending `text`, rest); the rest is never left empty."""
    for length in range(min(max_len, len(text) - 1), 0, -1):
        if text[-length:] in words:
            return text[-length:], text[:-length]
    return "", text


def _strip_form(text: str) -> tuple[str, str]:
    for form in LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            return form, text[: -len(form)]
    return "", text


def parse_name(name: str) -> ParsedName:
    """Split a 企业名称 into region / trade name / industry / legal form (see module docstring).

    Brackets holding a region (金山云(北京)…) give the region; other bracket contents stay in the name.
    Up to two region prefixes are peeled (广东省深圳市 → 深圳, the most specific). When nothing is left for
    the trade name, the industry word is kept as the trade name, so the parts never lose the name.
    """
    return parse_simplified(simplified_text(name))


def parse_simplified(text: str, key: str | None = None) -> ParsedName:
    """parse_name for text already through `simplified_text` (`key`: its name_key, if known)."""
    key = name_key(text) if key is None else key
    bracket_region = ""
    for inner in _BRACKETS.findall(text):
        region = REGIONS.get(name_key(inner))
        if region is not None:
            bracket_region = region
            text = text.replace(f"({inner})", "", 1)
    return _parse_parts(name_key(text) if bracket_region else key, key, bracket_region)


def has_brackets(name: str) -> bool:
    """Whether `name` has round brackets (which may hold a region); without them parse_key suffices."""
    return any(b in name for b in _OPEN_BRACKETS)


def parse_key(key: str) -> ParsedName:
    """parse_name for a bracket-free name, given its name_key (the fast path: no re-normalising)."""
    return _parse_parts(key, key, "")


def _parse_parts(text: str, key: str, bracket_region: str) -> ParsedName:
    form, rest = _strip_form(text)
    region = ""
    for _ in range(2):
        found, after = _strip_region_prefix(rest)
        if not found:
            break
        region, rest = found, after
    region = region or bracket_region
    industry, trade = _strip_suffix(rest, INDUSTRIES, INDUSTRY_MAX_LEN)
    return ParsedName(key, region, trade, industry, form)


def split_branch(name: str) -> BranchName | None:
    """The parent and label of a branch name (分公司 and the like), or None when `name` is not one.

    Handles X分公司, X有限公司Y分公司 / X有限公司北京分公司 (label Y / 北京), X(Y)分公司 (label Y) and
    X北京分公司 where X has no legal form (label 北京). None when no parent name is left (北京分公司).
    """
    return split_simplified(simplified_text(name))


def split_simplified(text: str) -> BranchName | None:
    """split_branch for text already through `simplified_text`."""
    text = text.replace(" ", "")
    tail = _BRANCH_TAIL.search(text)
    if tail is None:
        return None
    head = text[: tail.start()]
    if head.endswith(")") and "(" in head:
        cut = head.rindex("(")
        parent, label = head[:cut], head[cut + 1 : -1]
    elif (last := _LAST_FORM.match(head)) is not None:
        parent, label = last.group(1), last.group(2)
    else:
        # No legal form: a trailing region is the label (X科技北京分公司 → X科技 + 北京).
        parent, label = head, ""
        for length in range(min(REGION_MAX_LEN, len(head) - 1), 1, -1):
            if head[-length:] in REGIONS:
                parent, label = head[:-length], head[-length:]
                break
    parent_key = name_key(parent)
    if not parent_key or parent_key in REGIONS:
        return None
    return BranchName(parent, label, parent_key)
