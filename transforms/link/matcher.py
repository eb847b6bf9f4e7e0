"""Decide, for distinct record names, which operator each one is: name_exact → branch → alias → fuzzy.

The USCC step and analyst judgements work on whole records and live in `transforms.link.records`.
Every decision carries (status, method, score, is_branch, evidence); precision comes first, so anything
short of the rules below for `linked` is `review` (a person looks) or `none`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from pipelines.normalise import name_key
from transforms.link.index import OperatorIndex
from transforms.link.parse import (
    ParsedName,
    has_brackets,
    may_be_branch,
    parse_key,
    parse_simplified,
    simplified_text,
    split_simplified,
)

LINKED, REVIEW, NONE = "linked", "review", "none"
_STATUS_CODE = {NONE: 0, REVIEW: 1, LINKED: 2}


class Decision(NamedTuple):
    """One link decision. operator_id is None for `none`; for `review` it is the best candidate."""

    operator_id: str | None
    status: str
    method: str | None
    score: float
    is_branch: bool
    evidence: dict[str, Any]


NO_LINK = Decision(None, NONE, None, 0.0, False, {})


class _FuzzyQuery(NamedTuple):
    slot: int  # position in the caller's list
    parsed: ParsedName
    is_branch: bool
    excluded: frozenset[str]


def _allowed(operator_ids: Sequence[str] | None, excluded: frozenset[str]) -> list[str]:
    return [op for op in operator_ids or () if op not in excluded]


def _lookup_decision(ops: list[str], method: str, is_branch: bool, evidence: dict[str, Any]) -> Decision:
    """linked when exactly one operator holds the key; review (ambiguous) when several do."""
    if len(ops) == 1:
        return Decision(ops[0], LINKED, method, 100.0, is_branch, evidence)
    return Decision(ops[0], REVIEW, method, 100.0, is_branch,
                    {**evidence, "reason": "ambiguous", "candidates": sorted(ops)})


def decide_names(names: Sequence[str], excluded: Sequence[frozenset[str]], index: OperatorIndex,
                 keys: Sequence[str] | None = None) -> list[Decision]:
    """A Decision per name (in order). `excluded[i]`: operators name i must never link to (analyst: negative).

    `keys`: the names' name_key values when the caller has them already.
    """
    keys = keys if keys is not None else [name_key(name) for name in names]
    decisions: list[Decision | None] = [None] * len(names)
    queue: list[_FuzzyQuery] = []
    for slot, (name, banned, key) in enumerate(zip(names, excluded, keys, strict=True)):
        ops = _allowed(index.by_key.get(key), banned)
        if ops:
            decisions[slot] = _lookup_decision(ops, "name_exact", False, {})
            continue
        branch = split_simplified(simplified_text(name)) if may_be_branch(key) else None
        if branch is not None:
            evidence = {"parent": branch.parent_key, "branch_label": branch.label}
            ops = _allowed(index.by_key.get(branch.parent_key), banned)
            if not ops:
                ops = _allowed(index.by_alias.get(branch.parent_key), banned)
                evidence["via"] = "alias" if ops else "fuzzy"
            if ops:
                decisions[slot] = _lookup_decision(ops, "branch", True, evidence)
            else:
                parsed = parse_simplified(branch.parent, branch.parent_key)
                queue.append(_FuzzyQuery(slot, parsed, True, banned))
            continue
        ops = _allowed(index.by_alias.get(key), banned)
        if ops:
            decisions[slot] = _lookup_decision(ops, "alias", False, {"alias": key})
            continue
        parsed = parse_simplified(simplified_text(name), key) if has_brackets(name) else parse_key(key)
        queue.append(_FuzzyQuery(slot, parsed, False, banned))
    for query, decision in zip(queue, fuzzy_decisions(queue, index), strict=True):
        decisions[query.slot] = decision
    return [d if d is not None else NO_LINK for d in decisions]


def _pairs(queries: Sequence[_FuzzyQuery], index: OperatorIndex) -> tuple[list[int], list[int], set[int]]:
    """(query numbers, entry numbers) of every candidate pair, and the queries whose blocking was capped."""
    query_of: list[int] = []
    entry_of: list[int] = []
    capped: set[int] = set()
    for number, query in enumerate(queries):
        entries, was_capped = index.candidates(query.parsed)
        if was_capped:
            capped.add(number)
        for entry in entries:
            if index.entry_operator[entry] not in query.excluded:
                query_of.append(number)
                entry_of.append(entry)
    return query_of, entry_of, capped


def _column(parsed: Sequence[ParsedName], field: int) -> np.ndarray:
    return np.array([p[field] for p in parsed], dtype=object)


def score_pairs(left: Sequence[ParsedName], right: Sequence[ParsedName], lenient_form: np.ndarray) -> pd.DataFrame:
    """Compare parsed names pairwise (left[i] with right[i]) on their parts; one row per pair.

    Columns: status_code (2 linked / 1 review / 0 none), reason, score (0–100). Rules:
    linked needs the same trade name (字号), industry (行业), region (行政区划) and legal form (组织形式)
    (`lenient_form`: a branch's parent written without its legal form). review: only the legal form
    differs; or the region is missing on one side; or the trade name or industry is one edit or one swap
    away; or the industry is missing on one side; or the whole names are one edit apart (regions aside).
    Everything else — a different region, trade name or
    industry — is none: different companies.
    """
    if not len(left):
        return pd.DataFrame({"status_code": np.zeros(0, np.int8), "reason": [], "score": np.zeros(0)})
    q_trade, c_trade = _column(left, 2), _column(right, 2)
    q_ind, c_ind = _column(left, 3), _column(right, 3)
    q_reg, c_reg = _column(left, 1), _column(right, 1)
    q_form, c_form = _column(left, 4), _column(right, 4)
    trade_dist = process.cpdist(q_trade, c_trade, scorer=OSA.distance, workers=-1)
    ind_dist = process.cpdist(q_ind, c_ind, scorer=OSA.distance, workers=-1)
    q_key, c_key = _column(left, 0), _column(right, 0)
    key_ratio = process.cpdist(q_key, c_key, scorer=fuzz.ratio, workers=-1)
    key_slip = process.cpdist(q_key, c_key, scorer=OSA.distance, workers=-1) == 1
    trade_ratio = process.cpdist(q_trade, c_trade, scorer=fuzz.ratio, workers=-1)
    ind_ratio = process.cpdist(q_ind, c_ind, scorer=fuzz.ratio, workers=-1)

    trade_eq, ind_eq = trade_dist == 0, ind_dist == 0
    short = np.array([min(len(a), len(b)) < 2 for a, b in zip(q_trade, c_trade, strict=True)], dtype=bool)
    trade_slip = (trade_dist == 1) & ~short
    ind_missing = (q_ind == "") != (c_ind == "")
    ind_slip = (ind_dist == 1) & ~ind_missing
    reg_eq = q_reg == c_reg
    reg_missing = (q_reg == "") != (c_reg == "")
    reg_ok = reg_eq | reg_missing
    form_eq = (q_form == c_form) | (lenient_form & (q_form == ""))
    form_ok = form_eq | (q_form == "") | (c_form == "")

    linked = trade_eq & ind_eq & reg_eq & form_eq
    reviews = [  # first matching reason wins
        ("legal_form_differs", trade_eq & ind_eq & reg_eq & ~form_eq),
        ("region_missing", trade_eq & ind_eq & reg_missing & form_ok),
        ("trade_name_one_char", trade_slip & ind_eq & reg_ok & form_ok),
        ("industry_one_char", trade_eq & ind_slip & reg_ok & form_ok),
        ("industry_missing", trade_eq & ind_missing & reg_ok & form_ok),
        ("one_char", key_slip & reg_ok),  # e.g. a slip inside an industry word the parser then misses
    ]
    nones = [
        ("region_differs", trade_eq & ind_eq & ~reg_ok),
        ("industry_differs", trade_eq & ~ind_eq),
        ("trade_name_differs", np.ones(len(left), dtype=bool)),
    ]
    reason = np.select([linked] + [m for _, m in reviews + nones],
                       ["same_parts"] + [r for r, _ in reviews + nones], default="trade_name_differs")
    review = np.zeros(len(left), dtype=bool)
    for _, mask in reviews:
        review |= mask
    status = np.where(linked, 2, np.where(review, 1, 0)).astype(np.int8)
    part_score = (0.6 * trade_ratio + 0.2 * ind_ratio + 10.0 * (reg_eq + 0.5 * reg_missing)
                  + 10.0 * (form_eq + 0.5 * (form_ok & ~form_eq)))
    score = np.round(0.5 * part_score + 0.5 * key_ratio, 2)
    return pd.DataFrame({"status_code": status, "reason": reason, "score": score})


def _parts(parsed: ParsedName) -> dict[str, str]:
    return {"region": parsed.region, "trade": parsed.trade, "industry": parsed.industry, "form": parsed.form}


def fuzzy_decisions(queries: Sequence[_FuzzyQuery], index: OperatorIndex) -> list[Decision]:
    """Score every blocked candidate of every query at once, then pick per query (see score_pairs)."""
    query_of, entry_of, capped = _pairs(queries, index)
    left = [queries[q].parsed for q in query_of]
    right = [index.entries[e] for e in entry_of]
    lenient = np.array([queries[q].is_branch for q in query_of], dtype=bool)
    pairs = score_pairs(left, right, lenient)
    pairs["query"] = np.array(query_of, dtype=np.int64)
    pairs["entry"] = np.array(entry_of, dtype=np.int64)
    pairs["operator_id"] = [index.entry_operator[e] for e in entry_of]
    pairs = pairs.sort_values(["query", "status_code", "score"], ascending=[True, False, False], kind="stable")
    linked_ops = pairs[pairs["status_code"] == 2].groupby("query")["operator_id"].unique()
    best = pairs.groupby("query", sort=False).head(1)

    decisions = [NO_LINK for _ in queries]
    for number, query in enumerate(queries):
        if query.is_branch:
            decisions[number] = NO_LINK._replace(evidence={"parent": query.parsed.key, "reason": "no_parent"})
    for row in best.itertuples(index=False):
        query = queries[row.query]
        entry = index.entries[row.entry]
        evidence: dict[str, Any] = {"reason": row.reason, "record_parts": _parts(query.parsed),
                                    "candidate_parts": _parts(entry), "candidate": row.operator_id}
        if index.entry_is_alias[row.entry]:
            evidence["via_alias"] = entry.key
        if row.query in capped:
            evidence["blocking_capped"] = True
        if query.is_branch:
            evidence["parent"] = query.parsed.key
        method = "branch" if query.is_branch else "fuzzy"
        if row.status_code == 2:
            ops = sorted(linked_ops[row.query])
            if len(ops) > 1:
                evidence.update(reason="ambiguous", candidates=ops)
                decisions[row.query] = Decision(row.operator_id, REVIEW, method, float(row.score),
                                                query.is_branch, evidence)
            else:
                decisions[row.query] = Decision(row.operator_id, LINKED, method, float(row.score),
                                                query.is_branch, evidence)
        elif row.status_code == 1:
            decisions[row.query] = Decision(row.operator_id, REVIEW, method, float(row.score),
                                            query.is_branch, evidence)
        else:
            # No link: the nearest candidate stays in the evidence only, to explain the decision.
            evidence["nearest_score"] = float(row.score)
            decisions[row.query] = Decision(None, NONE, None, 0.0, False, evidence)
    return decisions
