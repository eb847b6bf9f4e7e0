"""Removal rules (信用修复 / 停止公示 rules) loaded from data and applied in DuckDB SQL.

Python here only reads and validates rules.yaml and low_fine_thresholds.csv, loads them into
temporary DuckDB tables and runs removal_status.sql over the caller's cases relation. Every date
rule (minimum display, automatic stop, escalation) lives in that one SQL file.

Months are calendar months from the rule's start date with month-end clamping, as DuckDB's
`date + INTERVAL n MONTH` does: 2024-08-31 + 6 months = 2025-02-28, 2024-02-29 + 12 months = 2025-02-28.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

HERE = Path(__file__).parent
RULES_PATH = HERE / "rules.yaml"
THRESHOLDS_PATH = HERE / "low_fine_thresholds.csv"
STATUS_SQL = HERE / "removal_status.sql"

PLATFORMS = ("creditchina", "gsxt", "miit", "court", "tax")
RECORD_TYPES = (
    "penalty",  # 行政处罚
    "abnormal_operation",  # 经营异常名录
    "serious_illegal_list",  # 严重违法失信名单
    "telecom_bad_list",  # 电信业务经营不良名单
    "telecom_dishonest_list",  # 电信业务经营失信名单
    "court_dishonest",  # 失信被执行人
    "tax_major_violation",  # 重大税收违法失信主体
)
PENALTY_KINDS = (
    "warning",  # 警告
    "circulated_criticism",  # 通报批评
    "fine",  # 罚款
    "confiscation",  # 没收违法所得、没收非法财物
    "suspension_of_business",  # 责令停产停业
    "production_restriction",  # 限制开展生产经营活动
    "employment_restriction",  # 限制从业
    "qualification_downgrade",  # 降低资质等级
    "licence_suspension",  # 暂扣许可证件
    "licence_revocation",  # 吊销许可证件
    "business_licence_revocation",  # 吊销营业执照
    "annual_report_missing",  # 未按时报送年度报告
)
DOMAINS = ("general", "food", "drug", "special_equipment", "work_safety", "fire")
SEVERITIES = ("minor", "general", "serious")  # 轻微 / 一般 / 严重
CLOCK_STARTS = ("decision", "publication", "listing")
CONDITIONS = ("obligations_performed", "cause_corrected", "credit_commitment")
TERMS = ("any", "required", "absent")
STATUSES = ("not_published", "expired", "eligible", "waiting", "conditions_unmet", "barred")

CASE_COLUMNS = (
    "record_id",
    "record_type",
    "platform",
    "penalty_kinds",
    "fine_amount_yuan",
    "domain",
    "severity",
    "decision_date",
    "publish_date",
    "listed_date",
    "obligations_done_date",
    "corrected_date",
    "term_years",
)
OPTIONAL_CASE_COLUMNS = ("province", "subject_type")  # subject_type: organisation (default) | person
RESULT_COLUMNS = (
    "record_id",
    "status",
    "early_removal_from",
    "auto_removal_on",
    "escalation_on",
    "rule_id",
    "basis",
    "confidence",
    "error",
)


class RuleFileError(ValueError):
    """rules.yaml or low_fine_thresholds.csv is malformed; the message names the rule/line and field."""


@dataclass(frozen=True)
class Exclusion:
    """Penalty kinds (optionally within domains) that leave no early-removal path."""

    kinds: tuple[str, ...]
    domains: tuple[str, ...] | None
    basis: str


@dataclass(frozen=True)
class Rule:
    """One removal rule: which records it covers, its regime dates and its display periods."""

    rule_id: str
    platform: str
    record_types: tuple[str, ...]
    priority: int
    effective_from: date | None
    effective_to: date | None
    regime_date: str
    published: bool
    clock_start: str
    min_display_months: int | None
    max_display_months: int | None
    basis: str
    evidence: str
    confidence: str
    kinds_all_in: tuple[str, ...] | None = None
    kinds_any_in: tuple[str, ...] | None = None
    low_fine_only: bool = False
    domains: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    term: str = "any"
    unconfirmed_from: date | None = None
    unconfirmed_reason: str | None = None
    max_extends_to_term: bool = False
    conditions: tuple[str, ...] = ()
    conditions_mode: str = "all"
    conditions_unchecked: tuple[str, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    escalation_months: int | None = None
    example: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class LowFineThreshold:
    """较低数额罚款 threshold of one province (`*` = the default for provinces not listed)."""

    province: str
    organisation_yuan: Decimal
    person_yuan: Decimal
    source: str


def _fail(rule_id: str, message: str) -> RuleFileError:
    return RuleFileError(f"rules.yaml, rule {rule_id!r}: {message}")


def _choices(rule_id: str, name: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """A list of allowed words, or None when the field is absent/null (= no constraint)."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise _fail(rule_id, f"{name} must be a non-empty list or null, got {value!r}")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise _fail(rule_id, f"{name} has unknown value(s) {bad}; allowed: {', '.join(allowed)}")
    return tuple(value)


def _one_of(rule_id: str, name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _fail(rule_id, f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _months(rule_id: str, name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(rule_id, f"{name} must be a whole number of months >= 0 or null, got {value!r}")
    return value


def _date(rule_id: str, name: str, value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    raise _fail(rule_id, f"{name} must be an ISO date (YYYY-MM-DD) or null, got {value!r}")


def _text(rule_id: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(rule_id, f"{name} must be non-empty text")
    return value


def _bool(rule_id: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(rule_id, f"{name} must be true or false, got {value!r}")
    return value


def _exclusions(rule_id: str, value: Any) -> tuple[Exclusion, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(rule_id, "exclusions must be a list")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _fail(rule_id, f"exclusions[{i}] must be a mapping")
        kinds = _choices(rule_id, f"exclusions[{i}].kinds", item.get("kinds"), PENALTY_KINDS)
        if kinds is None:
            raise _fail(rule_id, f"exclusions[{i}].kinds is required")
        domains = _choices(rule_id, f"exclusions[{i}].domains", item.get("domains"), DOMAINS)
        out.append(Exclusion(kinds, domains, _text(rule_id, f"exclusions[{i}].basis", item.get("basis"))))
    return tuple(out)


def parse_rule(raw: Any, index: int) -> Rule:
    """Validate one rules.yaml entry; raises RuleFileError naming the rule and the field."""
    if not isinstance(raw, dict):
        raise RuleFileError(f"rules.yaml, entry {index}: must be a mapping")
    rid = raw.get("rule_id")
    if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9_]+", rid):
        raise RuleFileError(f"rules.yaml, entry {index}: rule_id must be lower_snake_case text, got {rid!r}")
    regime = raw.get("regime")
    if not isinstance(regime, dict):
        raise _fail(rid, "regime must be a mapping with effective_from, effective_to and date")
    kinds = raw.get("penalty_kinds") or {}
    if not isinstance(kinds, dict) or set(kinds) - {"all_in", "any_in"}:
        raise _fail(rid, "penalty_kinds must be a mapping with all_in and/or any_in")
    priority = raw.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise _fail(rid, f"priority must be a whole number, got {priority!r}")
    record_types = _choices(rid, "record_types", raw.get("record_types"), RECORD_TYPES)
    if record_types is None:
        raise _fail(rid, "record_types is required")
    rule = Rule(
        rule_id=rid,
        platform=_one_of(rid, "platform", raw.get("platform"), PLATFORMS),
        record_types=record_types,
        priority=priority,
        effective_from=_date(rid, "regime.effective_from", regime.get("effective_from")),
        effective_to=_date(rid, "regime.effective_to", regime.get("effective_to")),
        regime_date=_one_of(rid, "regime.date", regime.get("date"), CLOCK_STARTS),
        unconfirmed_from=_date(rid, "regime.unconfirmed_from", regime.get("unconfirmed_from")),
        unconfirmed_reason=regime.get("unconfirmed_reason"),
        published=_bool(rid, "published", raw.get("published")),
        clock_start=_one_of(rid, "clock_start", raw.get("clock_start"), CLOCK_STARTS),
        min_display_months=_months(rid, "min_display_months", raw.get("min_display_months")),
        max_display_months=_months(rid, "max_display_months", raw.get("max_display_months")),
        basis=_text(rid, "basis", raw.get("basis")),
        evidence=_one_of(rid, "evidence", raw.get("evidence"), ("P", "S")),
        confidence=_one_of(rid, "confidence", raw.get("confidence"), ("confirmed", "unconfirmed")),
        kinds_all_in=_choices(rid, "penalty_kinds.all_in", kinds.get("all_in"), PENALTY_KINDS),
        kinds_any_in=_choices(rid, "penalty_kinds.any_in", kinds.get("any_in"), PENALTY_KINDS),
        low_fine_only=_bool(rid, "low_fine_only", raw.get("low_fine_only", False)),
        domains=_choices(rid, "domains", raw.get("domains"), DOMAINS),
        severities=_choices(rid, "severities", raw.get("severities"), SEVERITIES),
        term=_one_of(rid, "term", raw.get("term", "any"), TERMS),
        max_extends_to_term=_bool(rid, "max_extends_to_term", raw.get("max_extends_to_term", False)),
        conditions=_choices(rid, "conditions", raw.get("conditions"), CONDITIONS) or (),
        conditions_mode=_one_of(rid, "conditions_mode", raw.get("conditions_mode", "all"), ("all", "any")),
        conditions_unchecked=tuple(raw.get("conditions_unchecked") or ()),
        exclusions=_exclusions(rid, raw.get("exclusions")),
        escalation_months=_months(rid, "escalation_months", raw.get("escalation_months")),
        example=raw.get("example") or {},
    )
    _check_consistency(rule)
    return rule


def _check_consistency(rule: Rule) -> None:
    """Cross-field checks: a rule that could never be applied as written is an error in the data."""
    rid = rule.rule_id
    if rule.effective_from and rule.effective_to and rule.effective_from >= rule.effective_to:
        raise _fail(rid, "regime.effective_from must be before regime.effective_to")
    if rule.unconfirmed_from and not rule.unconfirmed_reason:
        raise _fail(rid, "regime.unconfirmed_reason is required with regime.unconfirmed_from")
    if (
        rule.min_display_months is not None
        and rule.max_display_months is not None
        and rule.min_display_months > rule.max_display_months
    ):
        raise _fail(rid, "min_display_months exceeds max_display_months")
    if rule.min_display_months is not None and rule.published and not rule.conditions:
        raise _fail(rid, "an early-removal path (min_display_months set) needs conditions")
    if rule.term == "absent" and rule.max_extends_to_term:
        raise _fail(rid, "max_extends_to_term needs a term; term is 'absent'")
    if not rule.example:
        raise _fail(rid, "a worked example is required")


def load_rules(path: Path = RULES_PATH) -> list[Rule]:
    """Read and validate rules.yaml; rule ids must be unique."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RuleFileError(f"{path.name}: expected a top-level 'rules:' list")
    rules = [parse_rule(raw, i) for i, raw in enumerate(doc["rules"], start=1)]
    seen: set[str] = set()
    for rule in rules:
        if rule.rule_id in seen:
            raise _fail(rule.rule_id, "duplicate rule_id")
        seen.add(rule.rule_id)
    return rules


def _yuan(text: str | None, where: str) -> Decimal:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise RuleFileError(f"{where}: not an amount in yuan: {text!r}") from None
    if value <= 0:
        raise RuleFileError(f"{where}: threshold must be positive, got {value}")
    return value


def load_low_fine_thresholds(path: Path = THRESHOLDS_PATH) -> list[LowFineThreshold]:
    """Read the 较低数额罚款 thresholds; exactly one `*` row (the default) is required."""
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"province", "organisation_threshold_yuan", "person_threshold_yuan", "source"}
        if not need <= set(reader.fieldnames or ()):
            raise RuleFileError(f"{path.name}: header must have {sorted(need)}, got {reader.fieldnames}")
        for row in reader:
            where = f"{path.name} line {reader.line_num}"
            province = (row["province"] or "").strip()
            if not province or not (row["source"] or "").strip():
                raise RuleFileError(f"{where}: province and source are required")
            rows.append(
                LowFineThreshold(
                    province,
                    _yuan(row["organisation_threshold_yuan"], where),
                    _yuan(row["person_threshold_yuan"], where),
                    row["source"].strip(),
                )
            )
    provinces = [r.province for r in rows]
    if provinces.count("*") != 1:
        raise RuleFileError(f"{path.name}: exactly one default row (province '*') is required")
    if len(set(provinces)) != len(provinces):
        raise RuleFileError(f"{path.name}: a province is listed twice")
    return rows


_LIST = pa.list_(pa.string())
RULES_SCHEMA = pa.schema(
    [
        ("rule_id", pa.string()),
        ("platform", pa.string()),
        ("record_types", _LIST),
        ("kinds_all_in", _LIST),
        ("kinds_any_in", _LIST),
        ("low_fine_only", pa.bool_()),
        ("domains", _LIST),
        ("severities", _LIST),
        ("term", pa.string()),
        ("priority", pa.int32()),
        ("effective_from", pa.date32()),
        ("effective_to", pa.date32()),
        ("regime_date", pa.string()),
        ("unconfirmed_from", pa.date32()),
        ("unconfirmed_reason", pa.string()),
        ("published", pa.bool_()),
        ("clock_start", pa.string()),
        ("min_display_months", pa.int32()),
        ("max_display_months", pa.int32()),
        ("max_extends_to_term", pa.bool_()),
        ("conditions", _LIST),
        ("conditions_mode", pa.string()),
        ("escalation_months", pa.int32()),
        ("basis", pa.string()),
        ("confidence", pa.string()),
    ]
)
EXCLUSIONS_SCHEMA = pa.schema([("rule_id", pa.string()), ("kinds", _LIST), ("domains", _LIST), ("basis", pa.string())])
THRESHOLDS_SCHEMA = pa.schema(
    [
        ("province", pa.string()),
        ("organisation_yuan", pa.decimal128(18, 2)),
        ("person_yuan", pa.decimal128(18, 2)),
        ("source", pa.string()),
    ]
)


def rules_table(rules: list[Rule]) -> pa.Table:
    """The rules as one Arrow row each, in the column layout removal_status.sql reads."""
    rows = [{name: getattr(r, name) for name in RULES_SCHEMA.names} for r in rules]
    for row in rows:
        for name in ("record_types", "kinds_all_in", "kinds_any_in", "domains", "severities", "conditions"):
            row[name] = list(row[name]) if row[name] is not None else None
    return pa.Table.from_pylist(rows, schema=RULES_SCHEMA)


def exclusions_table(rules: list[Rule]) -> pa.Table:
    rows = [
        {
            "rule_id": r.rule_id,
            "kinds": list(e.kinds),
            "domains": list(e.domains) if e.domains else None,
            "basis": e.basis,
        }
        for r in rules
        for e in r.exclusions
    ]
    return pa.Table.from_pylist(rows, schema=EXCLUSIONS_SCHEMA)


def thresholds_table(thresholds: list[LowFineThreshold]) -> pa.Table:
    rows = [
        {
            "province": t.province,
            "organisation_yuan": t.organisation_yuan,
            "person_yuan": t.person_yuan,
            "source": t.source,
        }
        for t in thresholds
    ]
    return pa.Table.from_pylist(rows, schema=THRESHOLDS_SCHEMA)


def install_rules(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule] | None = None,
    thresholds: list[LowFineThreshold] | None = None,
) -> None:
    """(Re)create the temp tables removal_rules, removal_rule_exclusions, removal_low_fine_thresholds."""
    rules = load_rules() if rules is None else rules
    thresholds = load_low_fine_thresholds() if thresholds is None else thresholds
    for name, table in (
        ("removal_rules", rules_table(rules)),
        ("removal_rule_exclusions", exclusions_table(rules)),
        ("removal_low_fine_thresholds", thresholds_table(thresholds)),
    ):
        con.register("_removal_arrow", table)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _removal_arrow")
        finally:
            con.unregister("_removal_arrow")


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")


def _cases_source(con: duckdb.DuckDBPyConnection, cases: str) -> str:
    """A FROM-clause source for `cases`, with absent optional columns added as NULL."""
    if not _NAME.fullmatch(cases):
        raise ValueError(f"cases must name a table or view (e.g. main.cases), got {cases!r}")
    quoted = ".".join(f'"{part}"' for part in cases.split("."))
    try:
        columns = {c.lower() for c in con.sql(f"SELECT * FROM {quoted} LIMIT 0").columns}
    except duckdb.Error as exc:
        raise ValueError(f"cases relation {cases!r} cannot be read: {exc}") from exc
    missing = [c for c in CASE_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"cases relation {cases!r} lacks column(s): {', '.join(missing)}")
    extra = [f"NULL::VARCHAR AS {c}" for c in OPTIONAL_CASE_COLUMNS if c not in columns]
    return f"(SELECT *{''.join(', ' + e for e in extra)} FROM {quoted})"


def evaluate_cases(con: duckdb.DuckDBPyConnection, cases: str, as_of: date) -> duckdb.DuckDBPyRelation:
    """Removal status of every case in the table/view named `cases`, as of `as_of`.

    Returns one row per case: record_id, status (one of STATUSES, NULL when `error` is set),
    early_removal_from, auto_removal_on, escalation_on (DATEs), rule_id, basis (document and article),
    confidence (confirmed | unconfirmed) and error (why no status could be given, else NULL).
    The relation is lazy over `cases`. Raises ValueError if `cases` is not a readable relation with
    CASE_COLUMNS, RuleFileError if the rule files are malformed.
    """
    if not isinstance(as_of, date) or isinstance(as_of, datetime):
        raise TypeError(f"as_of must be a datetime.date, got {type(as_of).__name__}")
    source = _cases_source(con, cases)
    install_rules(con)
    sql = STATUS_SQL.read_text("utf-8")
    sql = sql.replace("__CASES__", source).replace("__AS_OF__", f"DATE '{as_of.isoformat()}'")
    return con.sql(sql)
