"""link_records: one link decision per record (记录) against the licensed operators (持证运营商).

Order: analyst judgement (研判) > USCC (统一社会信用代码, valid codes only) > name_exact > branch (分支机构)
> alias (别名/曾用名) > fuzzy. Identical names are decided once; a negative judgement bans that pair and
the record falls back to its next candidate; positive links it (method `analyst`); unsure sends it to review.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipelines.normalise import name_key
from pipelines.uscc import compact_uscc, is_valid_uscc
from transforms.link.engine import LINKED, REVIEW, Decision, decide_names
from transforms.link.errors import LinkInputError
from transforms.link.index import OperatorIndex, build_index, row_label, text_or_none

RECORD_COLUMNS = ("record_id", "name", "uscc")
JUDGEMENT_COLUMNS = ("record_id", "operator_id", "judgement")
JUDGEMENTS = ("positive", "negative", "unsure")
OUTPUT_COLUMNS = ("record_id", "operator_id", "status", "method", "score", "is_branch", "evidence")
_NAME_METHODS = frozenset({"name_exact", "alias", "fuzzy"})  # the record claims to BE the operator


def _check_columns(table: pd.DataFrame, required: tuple[str, ...], where: str) -> None:
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise LinkInputError(f"{where}: missing column(s) {', '.join(missing)}; has {list(table.columns)}")


def validated_records(records: pd.DataFrame, where: str = "records",
                      lines: Sequence[int] | None = None) -> tuple[list[str], list[str], list[object]]:
    """(record_ids, names, usccs) as lists; LinkInputError for a missing column, empty id/name or duplicate id."""
    _check_columns(records, RECORD_COLUMNS, where)
    ids = [text_or_none(v) for v in records["record_id"].tolist()]
    names = records["name"].tolist()
    seen: dict[str, int] = {}
    for row, (record_id, name) in enumerate(zip(ids, names, strict=True)):
        label = row_label(where, row, lines)
        if record_id is None:
            raise LinkInputError(f"{label}: empty record_id")
        if record_id in seen:
            first = row_label(where, seen[record_id], lines).removeprefix(f"{where}: ")
            raise LinkInputError(f"{label}: duplicate record_id {record_id!r} (first at {first})")
        seen[record_id] = row
        if not isinstance(name, str) or not name_key(name):
            text = text_or_none(name)
            if text is None or not name_key(text):
                raise LinkInputError(f"{label} (record_id {record_id!r}): empty name")
            names[row] = text
    return ids, names, records["uscc"].tolist()  # type: ignore[return-value]


class _Judgements:
    """Analyst decisions by record: banned operators (negative), positive link, unsure operator."""

    def __init__(self) -> None:
        self.banned: dict[str, set[str]] = defaultdict(set)
        self.positive: dict[str, str] = {}
        self.unsure: dict[str, str] = {}


def _judgements(judgements: pd.DataFrame | None, index: OperatorIndex) -> _Judgements:
    found = _Judgements()
    if judgements is None:
        return found
    _check_columns(judgements, JUDGEMENT_COLUMNS, "judgements")
    rows = zip(*(judgements[c].tolist() for c in JUDGEMENT_COLUMNS), strict=True)
    for row, (raw_record, raw_operator, raw_judgement) in enumerate(rows):
        record_id, operator_id = text_or_none(raw_record), text_or_none(raw_operator)
        judgement = (text_or_none(raw_judgement) or "").lower()
        where = f"judgements row {row + 1} (record_id {record_id!r}, operator_id {operator_id!r})"
        if record_id is None or operator_id is None:
            raise LinkInputError(f"{where}: empty record_id or operator_id")
        if judgement not in JUDGEMENTS:
            raise LinkInputError(f"{where}: judgement {raw_judgement!r} is not one of {', '.join(JUDGEMENTS)}")
        if operator_id not in index.uscc_of:
            raise LinkInputError(f"{where}: unknown operator_id")
        if judgement == "negative":
            found.banned[record_id].add(operator_id)
        elif judgement == "positive":
            if found.positive.get(record_id, operator_id) != operator_id:
                raise LinkInputError(f"{where}: record already judged positive for {found.positive[record_id]!r}")
            found.positive[record_id] = operator_id
        else:
            found.unsure[record_id] = operator_id
    for record_id, operator_id in found.positive.items():
        if operator_id in found.banned.get(record_id, ()):
            raise LinkInputError(f"judgements: record_id {record_id!r} is judged both positive and negative "
                                 f"for operator_id {operator_id!r}")
    return found


def _record_uscc(value: object) -> tuple[str | None, bool]:
    """(compact valid USCC or None, True when a non-empty value is invalid)."""
    text = text_or_none(value)
    if text is None:
        return None, False
    if is_valid_uscc(text):
        return compact_uscc(text), False
    return None, True


def _uscc_decision(uscc: str | None, banned: frozenset[str], index: OperatorIndex) -> Decision | None:
    operator_id = index.by_uscc.get(uscc) if uscc else None
    if operator_id is None or operator_id in banned:
        return None
    return Decision(operator_id, LINKED, "uscc", 100.0, False, {})


def _check_uscc_conflict(decision: Decision, uscc: str | None, name: str, index: OperatorIndex) -> Decision:
    """Send a link to review when the code and the name point at different operators.

    A name link whose record carries another operator's or an unknown valid USCC; or a USCC link whose
    name is exactly another operator's name.
    """
    if decision.method == "uscc":
        others = [op for op in index.by_key.get(name_key(name), ()) if op != decision.operator_id]
        if not others:
            return decision
        return decision._replace(status=REVIEW, evidence={"reason": "uscc_name_conflict", "name_matches": others})
    if uscc is None or decision.method not in _NAME_METHODS or decision.operator_id is None:
        return decision
    operator_uscc = index.uscc_of.get(decision.operator_id)
    if operator_uscc is None or operator_uscc == uscc:
        return decision
    evidence = {**decision.evidence, "reason": "uscc_conflict", "record_uscc": uscc,
                "operator_uscc": operator_uscc}
    return decision._replace(status=REVIEW, evidence=evidence)


def _analyst(decision: Decision, operator_id: str, judgement: str) -> Decision:
    status = LINKED if judgement == "positive" else REVIEW
    evidence: dict[str, Any] = {"judgement": judgement, "algorithm": {
        "operator_id": decision.operator_id, "status": decision.status, "method": decision.method}}
    same = decision.operator_id == operator_id
    return Decision(operator_id, status, "analyst", 100.0 if status == LINKED else (decision.score if same else 0.0),
                    decision.is_branch and same, evidence)


def _to_json(evidence: dict[str, Any]) -> str:
    return json.dumps(evidence, ensure_ascii=False, sort_keys=True) if evidence else "{}"


def link_records(operators: pd.DataFrame, records: pd.DataFrame,
                 judgements: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per record: record_id, operator_id, status, method, score, is_branch, evidence.

    status is linked / review / none; method is analyst / uscc / name_exact / branch / alias / fuzzy
    (None for none); score is 0–100; operator_id is None for none and the best candidate for review;
    evidence is a JSON object (reason, parsed parts, candidates, uscc_invalid …).
    Raises LinkInputError for bad operators, records or judgements (the message names the row).
    """
    index = build_index(operators)
    record_ids, names, raw_usccs = validated_records(records)
    return link_validated(index, record_ids, names, raw_usccs, _judgements(judgements, index))


def link_validated(index: OperatorIndex, record_ids: list[str], names: list[str], raw_usccs: list[object],
                   analyst: _Judgements | None = None) -> pd.DataFrame:
    """link_records on input already checked by build_index / validated_records."""
    analyst = analyst or _Judgements()
    uscc_cache: dict[object, tuple[str | None, bool]] = {}
    usccs: list[str | None] = []
    invalid = np.zeros(len(record_ids), dtype=bool)
    for row, value in enumerate(raw_usccs):
        key = value if isinstance(value, str) or value is None else repr(value)
        if key not in uscc_cache:
            uscc_cache[key] = _record_uscc(value)
        code, bad = uscc_cache[key]
        usccs.append(code)
        invalid[row] = bad

    empty: frozenset[str] = frozenset()
    banned = [frozenset(analyst.banned[r]) if r in analyst.banned else empty for r in record_ids]
    decisions: list[Decision | None] = [_uscc_decision(u, b, index) for u, b in zip(usccs, banned, strict=True)]

    # Names without judgements are decided once per distinct name; judged records one by one.
    plain = [row for row, d in enumerate(decisions) if d is None and not banned[row]]
    codes, uniques = pd.factorize(pd.Series([names[row] for row in plain], dtype=object))
    unique_decisions = decide_names(list(uniques), [empty] * len(uniques), index)
    for row, code in zip(plain, codes, strict=True):
        decisions[row] = unique_decisions[code]
    judged = [row for row, d in enumerate(decisions) if d is None]
    for row, decision in zip(judged, decide_names([names[r] for r in judged], [banned[r] for r in judged], index),
                             strict=True):
        decisions[row] = decision

    evidence_json = {id(d): _to_json(d.evidence) for d in unique_decisions}
    out_rows = []
    for row, decision in enumerate(decisions):
        assert decision is not None
        final = _check_uscc_conflict(decision, usccs[row], names[row], index)
        record_id = record_ids[row]
        if record_id in analyst.positive:
            final = _analyst(final, analyst.positive[record_id], "positive")
        elif record_id in analyst.unsure:
            final = _analyst(final, analyst.unsure[record_id], "unsure")
        if invalid[row]:
            final = final._replace(evidence={**final.evidence, "uscc_invalid": True})
        evidence = evidence_json.get(id(final)) if final is decision else None
        out_rows.append((record_id, final.operator_id, final.status, final.method, float(final.score),
                         bool(final.is_branch), evidence if evidence is not None else _to_json(final.evidence)))
    columns = list(zip(*out_rows, strict=True)) if out_rows else [()] * len(OUTPUT_COLUMNS)
    # object dtype keeps None as None (pandas 3 would infer str and turn None into NaN).
    return pd.DataFrame({
        name: pd.Series(values, dtype=dtype)
        for name, values, dtype in zip(OUTPUT_COLUMNS, columns,
                                       (object, object, object, object, "float64", "bool", object), strict=True)
    })
