"""The licensed operators (持证运营商), indexed for every link method.

Lookups: valid 统一社会信用代码 → operator; name_key → operators; alias / former name (曾用名) key → operators;
and, for the fuzzy step, the parsed names (operators' own names and full-name aliases) blocked on the
trade name (字号): an exact-trade bucket, plus a deletion-neighbourhood index on trade+industry that finds
every trade name one edit or one swap away. Buckets are bounded like nomenklatura's blocker.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from pipelines.normalise import clean_text, name_key
from pipelines.uscc import InvalidUSCC, validate_uscc
from transforms.link.errors import LinkInputError
from transforms.link.parse import (
    ParsedName,
    has_brackets,
    may_be_branch,
    parse_key,
    parse_simplified,
    simplified_text,
    split_simplified,
)

OPERATOR_COLUMNS = ("operator_id", "name", "uscc", "aliases")
MAX_BUCKET = 60  # a blocking key shared by more names than this says nothing (nomenklatura: 60)
MAX_CANDIDATES = 75  # candidates scored per name (nomenklatura: 75)


def text_or_none(value: object) -> str | None:
    """A cell as cleaned text, or None for None / NaN / pandas NA / blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return clean_text(value)


def split_aliases(value: object) -> list[str]:
    """Aliases as a list: a list/tuple/array of str, a '|'-separated str, or empty (None/NaN/"")."""
    if isinstance(value, str):
        items: Iterable[object] = value.split("|")
    elif isinstance(value, (list, tuple, set, frozenset)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value  # type: ignore[union-attr]
    else:
        items = [] if text_or_none(value) is None else [value]
    return [text for item in items if (text := text_or_none(item)) is not None]


def trade_keys(trade: str, industry: str) -> set[str]:
    """Deletion-neighbourhood keys: two trade names share one iff they are ≤1 edit or 1 swap apart."""
    keys = {f"{trade}|{industry}"}
    if len(trade) >= 2:
        keys.update(f"{trade[:i]}{trade[i + 1:]}|{industry}" for i in range(len(trade)))
    return keys


@dataclass
class OperatorIndex:
    """Every lookup the linker needs over the operators table."""

    uscc_of: dict[str, str | None] = field(default_factory=dict)  # operator_id → compact valid USCC
    by_uscc: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    by_alias: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    entries: list[ParsedName] = field(default_factory=list)  # parsed names for the fuzzy step
    entry_operator: list[str] = field(default_factory=list)
    entry_is_alias: list[bool] = field(default_factory=list)
    by_trade: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_trade_industry: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_deletion: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_key_deletion: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def _add_entry(self, parsed: ParsedName, operator_id: str, is_alias: bool) -> None:
        number = len(self.entries)
        self.entries.append(parsed)
        self.entry_operator.append(operator_id)
        self.entry_is_alias.append(is_alias)
        self.by_trade[parsed.trade].append(number)
        self.by_trade_industry[f"{parsed.trade}|{parsed.industry}"].append(number)
        for key in trade_keys(parsed.trade, parsed.industry):
            self.by_deletion[key].append(number)
        for key in trade_keys(parsed.key, ""):  # a slip anywhere in the name (an industry word, say)
            self.by_key_deletion[key].append(number)

    def candidates(self, query: ParsedName) -> tuple[list[int], bool]:
        """Entry numbers to score for `query` (bounded), and whether a cap cut anything off."""
        capped = False
        exact = self.by_trade.get(query.trade, [])
        if len(exact) > MAX_BUCKET:
            # A common trade name: only the same trade+industry can still be decided on.
            exact, capped = self.by_trade_industry.get(f"{query.trade}|{query.industry}", []), True
        found = dict.fromkeys(exact)
        neighbours = [(self.by_deletion, key) for key in trade_keys(query.trade, query.industry)]
        neighbours += [(self.by_key_deletion, key) for key in trade_keys(query.key, "")]
        for table, key in neighbours:
            bucket = table.get(key, ())
            if len(bucket) > MAX_BUCKET:
                capped = True
                continue
            found.update(dict.fromkeys(bucket))
        numbers = list(found)
        if len(numbers) > MAX_CANDIDATES:
            numbers, capped = numbers[:MAX_CANDIDATES], True
        return numbers, capped


def _check_columns(table: pd.DataFrame, required: Iterable[str], where: str) -> None:
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise LinkInputError(f"{where}: missing column(s) {', '.join(missing)}; has {list(table.columns)}")


def _parse(name: str, key: str) -> ParsedName:
    return parse_simplified(simplified_text(name), key) if has_brackets(name) else parse_key(key)


def row_label(where: str, row: int, lines: Sequence[int] | None) -> str:
    """How a validation message names a row: "<file>: line L" for files, "<table> row N" for frames."""
    return f"{where}: line {lines[row]}" if lines is not None else f"{where} row {row + 1}"


def build_index(operators: pd.DataFrame, where: str = "operators",
                lines: Sequence[int] | None = None) -> OperatorIndex:
    """Index the operators table (`operator_id, name, uscc, aliases`).

    Raises LinkInputError naming the row for: a missing column, an empty operator_id or name, a duplicate
    operator_id, an invalid USCC, or a USCC given to two operators.
    """
    _check_columns(operators, OPERATOR_COLUMNS, where)
    index = OperatorIndex()
    columns = [operators[c].tolist() for c in OPERATOR_COLUMNS]
    for row, (raw_id, raw_name, raw_uscc, raw_aliases) in enumerate(zip(*columns, strict=True)):
        operator_id, name = text_or_none(raw_id), text_or_none(raw_name)
        label = row_label(where, row, lines) + (f" (operator_id {operator_id!r})" if operator_id else "")
        if operator_id is None:
            raise LinkInputError(f"{label}: empty operator_id")
        key = name_key(name) if name is not None else ""
        if not key:
            raise LinkInputError(f"{label}: empty name")
        if operator_id in index.uscc_of:
            raise LinkInputError(f"{label}: duplicate operator_id {operator_id!r}")
        uscc_text = text_or_none(raw_uscc)
        uscc = None
        if uscc_text is not None:
            try:
                uscc = validate_uscc(uscc_text)
            except InvalidUSCC as error:
                raise LinkInputError(f"{label}: {error}") from None
            if uscc in index.by_uscc:
                raise LinkInputError(f"{label}: USCC {uscc} already belongs to {index.by_uscc[uscc]!r}")
            index.by_uscc[uscc] = operator_id
        index.uscc_of[operator_id] = uscc
        index.by_key[key].append(operator_id)
        index._add_entry(_parse(name, key), operator_id, is_alias=False)
        for alias in split_aliases(raw_aliases):
            alias_key = name_key(alias)
            if not alias_key or alias_key == key or operator_id in index.by_alias.get(alias_key, ()):
                continue
            index.by_alias[alias_key].append(operator_id)
            parsed = _parse(alias, alias_key)
            if parsed.form:  # a former full name (曾用名) also takes part in the fuzzy step
                index._add_entry(parsed, operator_id, is_alias=True)
    return index


# -- what a decision reads (the incremental linker, transforms/models/core/record_links.py) -----------------
# A decision for a record reads only some of the index's lookups: its USCC, its name key (and its parent's,
# for a branch) among names and aliases, and the fuzzy step's blocking buckets. Each lookup key is written
# with the name of its lookup so the two sides compare as plain strings. When operators change, a decision
# can only change if it reads a key that a changed operator's old or new version holds; and a decision
# against only the operators holding one of its keys is the decision against all of them (every bucket it
# reads is the same, caps included).
USCC_KEY, NAME_KEY, TRADE_KEY, TRADE_INDUSTRY_KEY, DELETION_KEY, KEY_DELETION_KEY = "u:", "n:", "t:", "ti:", "d:", "kd:"


# The lookups whose buckets are skipped when they hold more than MAX_BUCKET entries (candidates): a change
# inside a bucket that is over the cap before and after changes no decision.
CAPPED_KEYS = (TRADE_KEY, DELETION_KEY, KEY_DELETION_KEY)


def keys_by_operator(index: OperatorIndex) -> dict[str, list[str]]:
    """Every lookup key the index holds, by the operator that holds it, once per entry it has in that
    bucket (so the bucket sizes the caps read can be counted); by_key and by_alias share NAME_KEY: a
    record looks up both."""
    found: dict[str, list[str]] = defaultdict(list)
    for key, operator_id in index.by_uscc.items():
        found[operator_id].append(USCC_KEY + key)
    for table in (index.by_key, index.by_alias):
        for key, operator_ids in table.items():
            for operator_id in operator_ids:
                found[operator_id].append(NAME_KEY + key)
    for prefix, buckets in ((TRADE_KEY, index.by_trade), (TRADE_INDUSTRY_KEY, index.by_trade_industry),
                            (DELETION_KEY, index.by_deletion), (KEY_DELETION_KEY, index.by_key_deletion)):
        for key, entries in buckets.items():
            for entry in entries:
                found[index.entry_operator[entry]].append(prefix + key)
    return {operator_id: sorted(keys) for operator_id, keys in found.items()}


def _fuzzy_keys(parsed: ParsedName) -> list[str]:
    """The blocking buckets `OperatorIndex.candidates` may read for `parsed` (all of them, caps aside)."""
    return [TRADE_KEY + parsed.trade, f"{TRADE_INDUSTRY_KEY}{parsed.trade}|{parsed.industry}",
            *(DELETION_KEY + k for k in trade_keys(parsed.trade, parsed.industry)),
            *(KEY_DELETION_KEY + k for k in trade_keys(parsed.key, ""))]


def query_keys(name: str, key: str, uscc: str | None) -> list[str]:
    """Every lookup key a decision about a record named `name` (name_key `key`, valid compact `uscc`) may
    read, whichever step decides it: a superset of what transforms.link.matcher.decide_names and the USCC
    step read, so a decision whose keys no changed operator holds is the same against the new operators."""
    keys = [NAME_KEY + key, *_fuzzy_keys(_parse(name, key))]
    if uscc:
        keys.append(USCC_KEY + uscc)
    branch = split_simplified(simplified_text(name)) if may_be_branch(key) else None
    if branch is not None:
        keys += [NAME_KEY + branch.parent_key, *_fuzzy_keys(parse_simplified(branch.parent, branch.parent_key))]
    return sorted(set(keys))
