"""link_records: one link decision per record (记录) against the licensed operators (持证运营商).

Order: analyst judgement (研判) > USCC (统一社会信用代码, valid codes only) > name_exact > branch (分支机构)
> alias (别名/曾用名) > fuzzy. Identical names are decided once; a negative judgement bans that pair and
the record falls back to its next candidate; positive links it (method `analyst`); unsure sends it to review.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pipelines.normalise import name_key
from pipelines.uscc import InvalidUSCC, validate_uscc
from transforms.link.errors import LinkInputError
from transforms.link.index import OperatorIndex, build_index, query_keys, row_label, text_or_none
from transforms.link.matcher import LINKED, NONE, REVIEW, Decision, decide_names

RECORD_COLUMNS = ("record_id", "name", "uscc")
JUDGEMENT_COLUMNS = ("record_id", "operator_id", "judgement")
JUDGEMENTS = ("positive", "negative", "unsure")
OUTPUT_COLUMNS = ("record_id", "operator_id", "status", "method", "score", "is_branch", "evidence")
# Distinct (name, USCC) pairs the warehouse linker (core.record_links) decides at a time: a first build at 10M
# records has ~2M pairs, and the linker's frames for all of them at once took the process past 7 GB. Each
# pair's decision depends on the pair and the operators only, so batches give the same decisions.
PAIR_BATCH = 250_000
_NAME_METHODS = frozenset({"name_exact", "alias", "fuzzy"})  # the record claims to BE the operator


def _check_columns(table: pd.DataFrame, required: tuple[str, ...], where: str) -> None:
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise LinkInputError(f"{where}: missing column(s) {', '.join(missing)}; has {list(table.columns)}")


def _id_text(value: object) -> str | None:
    """An id cell as text (ids are opaque: only surrounding blanks are dropped), None when blank/missing."""
    if isinstance(value, str):
        return value.strip() or None
    return text_or_none(value)


def validated_records(records: pd.DataFrame, where: str = "records",
                      lines: Sequence[int] | None = None) -> RecordBatch:
    """The records checked and with identical names grouped (so each distinct name is keyed once).

    LinkInputError naming the row for: a missing column, an empty record_id, a duplicate record_id, or a
    name that is empty once normalised (only spaces or punctuation).
    """
    _check_columns(records, RECORD_COLUMNS, where)
    ids = [_id_text(v) for v in records["record_id"].tolist()]
    if None in ids:
        raise LinkInputError(f"{row_label(where, ids.index(None), lines)}: empty record_id")
    duplicated = pd.Series(ids, dtype=object).duplicated(keep="first").to_numpy()
    if duplicated.any():
        row = int(duplicated.argmax())
        first = row_label(where, ids.index(ids[row]), lines).removeprefix(f"{where}: ")
        raise LinkInputError(f"{row_label(where, row, lines)}: duplicate record_id {ids[row]!r} (first at {first})")
    codes, uniques = pd.factorize(pd.Series(records["name"].tolist(), dtype=object), use_na_sentinel=False)
    names: list[str] = []
    keys: list[str] = []
    for number, raw in enumerate(uniques):
        text = raw if isinstance(raw, str) else text_or_none(raw)
        key = name_key(text) if text else ""
        if not key:
            row = int(np.argmax(codes == number))
            raise LinkInputError(f"{row_label(where, row, lines)} (record_id {ids[row]!r}): empty name")
        names.append(text)  # type: ignore[arg-type]
        keys.append(key)
    return RecordBatch(ids, codes, names, keys, records["uscc"].tolist())  # type: ignore[arg-type]


class RecordBatch(NamedTuple):
    """Validated records: ids, the distinct names (with their name_key) and each record's name number."""

    ids: list[str]
    name_codes: np.ndarray
    names: list[str]
    keys: list[str]
    usccs: list[object]


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
    try:
        return validate_uscc(text), False
    except InvalidUSCC:
        return None, True


def _uscc_decision(uscc: str | None, banned: frozenset[str], index: OperatorIndex) -> Decision | None:
    operator_id = index.by_uscc.get(uscc) if uscc else None
    if operator_id is None or operator_id in banned:
        return None
    return Decision(operator_id, LINKED, "uscc", 100.0, False, {})


def _check_uscc_conflict(decision: Decision, uscc: str | None, key: str, index: OperatorIndex) -> Decision:
    """Send a link to review when the code and the name point at different operators.

    A name link whose record carries another operator's or an unknown valid USCC; or a USCC link whose
    name is exactly another operator's name.
    """
    if decision.method == "uscc":
        others = [op for op in index.by_key.get(key, ()) if op != decision.operator_id]
        if not others:
            return decision
        return decision._replace(status=REVIEW, evidence={"reason": "uscc_name_conflict", "name_matches": others})
    if uscc is None or decision.method not in _NAME_METHODS or decision.operator_id is None:
        return decision
    operator_uscc = index.uscc_of.get(decision.operator_id)
    if operator_uscc is None or operator_uscc == uscc:
        return decision
    if decision.status == REVIEW and decision.method == "fuzzy":
        # A near-miss name plus another valid code: the code proves it is another company.
        evidence = {**decision.evidence, "reason": "uscc_differs", "record_uscc": uscc,
                    "candidate": decision.operator_id}
        return Decision(None, NONE, None, 0.0, False, evidence)
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
    batch = validated_records(records)
    return link_validated(index, batch, _judgements(judgements, index))


def record_usccs(raw_usccs: list[object]) -> tuple[list[str | None], np.ndarray]:
    """Per record: the compact valid USCC or None, and whether a non-empty code was invalid."""
    cache: dict[object, tuple[str | None, bool]] = {}
    usccs: list[str | None] = []
    invalid = np.zeros(len(raw_usccs), dtype=bool)
    for row, value in enumerate(raw_usccs):
        key = value if isinstance(value, str) or value is None else repr(value)
        found = cache.get(key)
        if found is None:
            found = cache[key] = _record_uscc(value)
        usccs.append(found[0])
        invalid[row] = found[1]
    return usccs, invalid


def record_lookup_keys(batch: RecordBatch, usccs: list[str | None], rows: range | None = None) -> list[list[str]]:
    """Per record (of `rows`, default all), every index lookup key its decision may read
    (transforms.link.index.query_keys); `usccs` as record_usccs gives them."""
    codes = batch.name_codes
    return [query_keys(batch.names[codes[row]], batch.keys[codes[row]], usccs[row])
            for row in (rows if rows is not None else range(len(codes)))]


def link_validated(index: OperatorIndex, batch: RecordBatch, analyst: _Judgements | None = None,
                   usccs_checked: tuple[list[str | None], np.ndarray] | None = None) -> pd.DataFrame:
    """link_records on input already checked by build_index / validated_records (and, when given, the
    records' USCCs as record_usccs gives them)."""
    analyst = analyst or _Judgements()
    record_ids, codes = batch.ids, batch.name_codes
    usccs, invalid = usccs_checked or record_usccs(batch.usccs)
    empty: frozenset[str] = frozenset()
    banned = [frozenset(analyst.banned[r]) if r in analyst.banned else empty for r in record_ids] \
        if analyst.banned else [empty] * len(record_ids)
    decisions: list[Decision | None] = [_uscc_decision(u, b, index) if u else None
                                        for u, b in zip(usccs, banned, strict=True)]

    # Distinct names are decided once (only those some record still needs); judged records one by one.
    plain = np.array([d is None and not b for d, b in zip(decisions, banned, strict=True)], dtype=bool)
    needed = np.unique(codes[plain]) if len(codes) else np.zeros(0, dtype=np.int64)
    by_name = decide_names([batch.names[c] for c in needed], [empty] * len(needed), index,
                           keys=[batch.keys[c] for c in needed])
    unique_decisions: list[Decision | None] = [None] * len(batch.names)
    for code, decision in zip(needed.tolist(), by_name, strict=True):
        unique_decisions[code] = decision
    for row in np.flatnonzero(plain).tolist():
        decisions[row] = unique_decisions[codes[row]]
    judged = [row for row, d in enumerate(decisions) if d is None]
    judged_decisions = decide_names([batch.names[codes[r]] for r in judged], [banned[r] for r in judged], index,
                                    keys=[batch.keys[codes[r]] for r in judged])
    for row, decision in zip(judged, judged_decisions, strict=True):
        decisions[row] = decision

    evidence_json = {id(d): _to_json(d.evidence) for d in by_name}
    out_rows = []
    for row, decision in enumerate(decisions):
        assert decision is not None
        final = _check_uscc_conflict(decision, usccs[row], batch.keys[codes[row]], index)
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
