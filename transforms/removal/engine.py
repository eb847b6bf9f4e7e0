"""Removal rules (信用修复 / 停止公示 rules) loaded from data and applied in DuckDB SQL.

Python here only reads and validates rules.yaml and low_fine_thresholds.csv, loads them (and China's
official working-day calendar, transforms/workdays.py) into temporary DuckDB tables and runs
removal_status.sql over the caller's cases relation. Every date rule (minimum display, automatic stop,
escalation, working-day deadlines) lives in that one SQL file.

Periods are counted as 民法典 Arts 200–204 count them: the first day is not counted and a period in
months or years ends at 24:00 of the corresponding day, clamped to the month's end (Art 202). A record
published 2023-11-23 with a 3-year period is shown through 2026-11-23 (`display_until`, what 信用中国
prints as 公示截止期) and is first not shown on 2026-11-24 (`auto_removal_on`); 2024-02-29 + 12 months
ends on 2025-02-28. Display periods run by the calendar (no holiday shift: the registries stop display
mechanically); only deadlines counted in working days use the official calendar.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from spiders.source import platforms, record_types

HERE = Path(__file__).parent
RULES_PATH = HERE / "rules.yaml"
THRESHOLDS_PATH = HERE / "low_fine_thresholds.csv"
STATUS_SQL = HERE / "removal_status.sql"

# The platforms and record types a rule may name: those the sources declare (spiders/<source>/source.yml through
# spiders.source), so a new source's record types can get rules without touching this module.
PLATFORMS = platforms()
RECORD_TYPES = tuple(sorted(record_types()))
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
    "annual_report_missing",  # 未按时报送年度报告 (a listing's ground)
    "administrative_penalty",  # 受到行政处罚后列入 (a list entry that follows a penalty, e.g. 电信不良名单)
)
DOMAINS = ("general", "food", "drug", "special_equipment", "work_safety", "fire")
SEVERITIES = ("minor", "general", "serious")  # 轻微 / 一般 / 严重
CLOCK_STARTS = ("decision", "publication", "listing")
CONDITIONS = ("obligations_performed", "cause_corrected", "credit_commitment")
TERMS = ("any", "required", "absent")
DEADLINE_FROM = ("term_end", "conditions")
# `unknown`: a fact the answer depends on is missing (the `reason` column names it); never a guess.
STATUSES = ("not_published", "expired", "eligible", "waiting", "conditions_unmet", "barred", "unknown")

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
OPTIONAL_CASE_COLUMNS = (
    "province",  # 省份 of the deciding authority: picks the 较低数额罚款 threshold
    "subject_type",  # organisation (default) | person
    "new_penalty_date",  # the operator's first administrative penalty decided after the listing (电信不良名单)
    "new_penalty_reference",  # its decision number, quoted in `reason`
    "assumed_fields",  # '|'-separated case fields filled by a default reading upstream (domain, severity)
)
RESULT_COLUMNS = (
    "record_id",
    "status",
    "early_removal_from",
    "auto_removal_on",
    "display_until",
    "escalation_on",
    "removal_deadline",
    "rule_id",
    "basis",
    "confidence",
    "alt_rule_id",
    "alt_early_removal_from",
    "alt_auto_removal_on",
    "reason",
    "error",
)
# With evaluate_cases(..., stable_until=True): the last as-of date on which the row's answer is certain to stay
# the same for the same case (NULL: it never changes), so an incremental caller re-evaluates only what may change.
STABLE_UNTIL_COLUMN = "stable_until"
# Cases per evaluation query where many are answered at once (core.removal_status): a 10M warehouse's first
# build answered in one query ran out of DuckDB memory. Answers are per case, so any split gives the same.
EVALUATE_BATCH = 500_000
# The temp tables install_rules loads and removal_status.sql reads, beside the cases.
RULE_TABLES = ("removal_rules", "removal_rule_exclusions", "removal_low_fine_thresholds", "removal_calendar")


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
    regime_end_date: str | None = None  # the case date compared with effective_to (default: regime_date)
    term_kinds: tuple[str, ...] | None = None  # the term stretches the display only for these kinds
    term_years_range: tuple[int, int] | None = None  # a term outside it is nonsense (court: 2–5 years)
    kept_by_new_penalty: bool = False  # a new penalty before the automatic stop keeps the record shown
    alternative_regime_from: date | None = None  # also answer as if decided on/after this date
    alternative_label: str | None = None
    deletion_working_days: int | None = None  # the body removes it within N working days after …
    deletion_after: str | None = None  # … the end of the term, or the day the conditions were met
    handling: Handling | None = None  # how long the body takes to decide an application (issue 17)
    example: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Handling:
    """Working days the body has to decide a repair application (受理/办理时限), with its basis."""

    working_days: int
    basis: str
    confidence: str


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


def _positive(rule_id: str, name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(rule_id, f"{name} must be a whole number >= 1 or null, got {value!r}")
    return value


def _year_range(rule_id: str, value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(_positive(rule_id, "term_years_range", v) for v in value) or value[0] > value[1]):
        raise _fail(rule_id, f"term_years_range must be [min, max] whole years, got {value!r}")
    return (value[0], value[1])


def _handling(rule_id: str, value: Any) -> Handling | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(rule_id, "handling must be a mapping with working_days, basis and confidence")
    days = _positive(rule_id, "handling.working_days", value.get("working_days"))
    if days is None:
        raise _fail(rule_id, "handling.working_days is required")
    return Handling(days, _text(rule_id, "handling.basis", value.get("basis")),
                    _one_of(rule_id, "handling.confidence", value.get("confidence"), ("confirmed", "unconfirmed")))


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
    alternative = raw.get("alternative") or {}
    deletion = raw.get("deletion") or {}
    if not isinstance(alternative, dict) or not isinstance(deletion, dict):
        raise _fail(rid, "alternative and deletion must be mappings")
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
        regime_end_date=(_one_of(rid, "regime.end_date", regime["end_date"], CLOCK_STARTS)
                         if regime.get("end_date") is not None else None),
        term_kinds=_choices(rid, "term_kinds", raw.get("term_kinds"), PENALTY_KINDS),
        term_years_range=_year_range(rid, raw.get("term_years_range")),
        kept_by_new_penalty=_bool(rid, "kept_by_new_penalty", raw.get("kept_by_new_penalty", False)),
        alternative_regime_from=_date(rid, "alternative.regime_from", alternative.get("regime_from")),
        alternative_label=alternative.get("label"),
        deletion_working_days=_positive(rid, "deletion.working_days", deletion.get("working_days")),
        deletion_after=(_one_of(rid, "deletion.after", deletion.get("after"), DEADLINE_FROM)
                        if deletion else None),
        handling=_handling(rid, raw.get("handling")),
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
    if rule.term_kinds and not rule.max_extends_to_term:
        raise _fail(rid, "term_kinds needs max_extends_to_term: true")
    if rule.kept_by_new_penalty and rule.max_display_months is None:
        raise _fail(rid, "kept_by_new_penalty needs max_display_months (the period a new penalty falls in)")
    if (rule.alternative_regime_from is None) != (rule.alternative_label is None):
        raise _fail(rid, "alternative needs both regime_from and label")
    if rule.alternative_regime_from and rule.effective_to and rule.alternative_regime_from < rule.effective_to:
        raise _fail(rid, "alternative.regime_from must not fall inside the rule's own regime")
    if (rule.deletion_working_days is None) != (rule.deletion_after is None):
        raise _fail(rid, "deletion needs both working_days and after")
    if rule.deletion_after == "term_end" and not rule.max_extends_to_term and rule.max_display_months is None:
        raise _fail(rid, "deletion.after term_end needs a term or a maximum display")
    if not rule.example:
        raise _fail(rid, "a worked example is required")


def load_rules(path: Path = RULES_PATH) -> list[Rule]:
    """Read and validate rules.yaml; rule ids must be unique."""
    return list(_load_rules(path, path.stat().st_mtime_ns))


@lru_cache(maxsize=4)
def _load_rules(path: Path, _mtime_ns: int) -> tuple[Rule, ...]:
    """load_rules, once per version of the file (the engine runs per batch and per test)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(path.read_text("utf-8"), Loader=loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RuleFileError(f"{path.name}: expected a top-level 'rules:' list")
    rules = [parse_rule(raw, i) for i, raw in enumerate(doc["rules"], start=1)]
    seen: set[str] = set()
    alternatives: dict[tuple[str, str], date] = {}
    for rule in rules:
        if rule.rule_id in seen:
            raise _fail(rule.rule_id, "duplicate rule_id")
        seen.add(rule.rule_id)
        for record_type in rule.record_types if rule.alternative_regime_from else ():
            # one alternative reading per platform and record type: the engine answers each case twice at most
            first = alternatives.setdefault((rule.platform, record_type), rule.alternative_regime_from)
            if first != rule.alternative_regime_from:
                raise _fail(rule.rule_id, f"a second alternative.regime_from for {rule.platform} {record_type}")
    return tuple(rules)


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
        ("regime_end_date", pa.string()),
        ("term_kinds", _LIST),
        ("term_years_min", pa.int32()),
        ("term_years_max", pa.int32()),
        ("kept_by_new_penalty", pa.bool_()),
        ("alternative_regime_from", pa.date32()),
        ("alternative_label", pa.string()),
        ("deletion_working_days", pa.int32()),
        ("deletion_after", pa.string()),
        ("basis", pa.string()),
        ("confidence", pa.string()),
    ]
)
CALENDAR_SCHEMA = pa.schema([("day", pa.date32()), ("is_working", pa.bool_()), ("working_index", pa.int32())])
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
    rows = []
    for rule in rules:
        row = {name: getattr(rule, name, None) for name in RULES_SCHEMA.names}
        row["regime_end_date"] = rule.regime_end_date or rule.regime_date
        row["term_years_min"], row["term_years_max"] = rule.term_years_range or (None, None)
        for name in ("record_types", "kinds_all_in", "kinds_any_in", "domains", "severities", "conditions",
                     "term_kinds"):
            row[name] = list(row[name]) if row[name] is not None else None
        rows.append(row)
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


@lru_cache(maxsize=1)
def calendar_table() -> pa.Table:
    """Every day of the years China's official calendar is known for (transforms.workdays), with a running
    count of working days: the Nth working day after D is the working day whose index is index(D) + N."""
    from transforms.workdays import known_years, working_day_flags

    first, last = known_years()
    flags = working_day_flags(date(first, 1, 1), date(last, 12, 31))
    days = [day for day, _ in flags]
    working = [flag for _, flag in flags]
    index, count = [], 0
    for flag in working:
        count += flag
        index.append(count)
    return pa.Table.from_arrays([pa.array(days, pa.date32()), pa.array(working), pa.array(index, pa.int32())],
                                schema=CALENDAR_SCHEMA)


def calendar_missing_message() -> str:
    """CalendarMissing's own message with the year left as `{year}`, for the SQL to fill in."""
    from transforms.workdays import CalendarMissing

    return str(CalendarMissing(9999)).replace("9999", "{year}")


def install_rules(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule] | None = None,
    thresholds: list[LowFineThreshold] | None = None,
) -> None:
    """(Re)create the temp tables removal_rules, removal_rule_exclusions, removal_low_fine_thresholds and
    removal_calendar (China's official working days)."""
    rules = load_rules() if rules is None else rules
    thresholds = load_low_fine_thresholds() if thresholds is None else thresholds
    tables = (rules_table(rules), exclusions_table(rules), thresholds_table(thresholds), calendar_table())
    for name, table in zip(RULE_TABLES, tables, strict=True):
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


def evaluate_cases(con: duckdb.DuckDBPyConnection, cases: str, as_of: date,
                   install: bool = True, stable_until: bool = False) -> duckdb.DuckDBPyRelation:
    """Removal status of every case in the table/view named `cases`, as of `as_of`.

    Returns one row per case (RESULT_COLUMNS): record_id; status (one of STATUSES, NULL when `error` is
    set); early_removal_from (first day an application can be made), auto_removal_on (first day no longer
    shown), display_until (last day shown, 公示截止期), escalation_on (an uncorrected abnormal listing moves
    to the serious list), removal_deadline (the last day the body must have removed it, counted in working
    days on China's official calendar), all DATEs; rule_id; basis (document and article); confidence
    (confirmed | unconfirmed); alt_rule_id, alt_early_removal_from, alt_auto_removal_on (what the rule's
    alternative reading gives, e.g. 36号令 for a record decided under 58号令); reason (what the answer could
    not use or had to assume: "unknown: needs <field>", a missing calendar year, the new penalty that keeps
    a listing); error (why no answer at all could be given, else NULL).
    The relation is lazy over `cases`. `install=False` reuses the rule tables a previous call installed
    on `con` (batches). `stable_until=True` adds STABLE_UNTIL_COLUMN: a row's answer is the same for every
    as-of date from `as_of` through that date (NULL: for every later date), as long as the case row and
    rules_digest(con) are. No case's answer depends on another case (rows are joined only to themselves
    and to the rule tables), so any subset of cases can be evaluated on its own.
    Raises ValueError if `cases` is not a readable relation with CASE_COLUMNS, RuleFileError if the rule
    files are malformed.
    """
    if not isinstance(as_of, date) or isinstance(as_of, datetime):
        raise TypeError(f"as_of must be a datetime.date, got {type(as_of).__name__}")
    source = _cases_source(con, cases)
    if install:
        install_rules(con)
    return con.sql(status_sql(source, as_of, stable_until))


def status_sql(source: str, as_of: date, stable_until: bool = False) -> str:
    """removal_status.sql over the FROM-clause `source` at `as_of` (with STABLE_UNTIL_COLUMN if asked)."""
    extra = f", least(m.stable_until, a.stable_until) AS {STABLE_UNTIL_COLUMN}" if stable_until else ""
    return (_status_template().replace("__CASES__", source).replace("__AS_OF__", f"DATE '{as_of.isoformat()}'")
            .replace("__STABLE_UNTIL__", extra))


def _status_template() -> str:
    """removal_status.sql with the calendar message filled in: what the SQL is, bar cases and as-of date."""
    missing = calendar_missing_message().replace("'", "''")
    return STATUS_SQL.read_text("utf-8").replace("__CALENDAR_MISSING__", f"'{missing}'")


def rules_digest(con: duckdb.DuckDBPyConnection) -> str:
    """md5 of everything removal_status.sql reads besides the cases and the as-of date: its own text and the
    contents of RULE_TABLES as install_rules left them on `con` (rules, exclusions, thresholds, calendar)."""
    parts = [hashlib.md5(_status_template().encode("utf-8")).hexdigest()]
    for name in RULE_TABLES:
        [(digest,)] = con.execute(f"""
            SELECT md5(coalesce(string_agg(row_json, chr(30) ORDER BY row_json), ''))
            FROM (SELECT CAST(to_json(t) AS VARCHAR) AS row_json FROM {name} AS t)""").fetchall()
        parts.append(f"{name}:{digest}")
    return hashlib.md5("\n".join(parts).encode("utf-8")).hexdigest()
