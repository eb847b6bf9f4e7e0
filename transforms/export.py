"""The weekly risk export (每周信用风险导出): an XLSX workbook, the same tables as CSV and Parquet.

Sheets: 概览 summary, 本周新增 new this week, 在公示 open records by operator, 可申请修复 removal
(信用修复) candidates, 修复进度 repair cases (marts.repair_cases), 待复核 link review queue, 许可证风险
licence risk, 云服务信用评价 dimension 1 of the cloud credit evaluation per operator with the records that
decided it. Chinese headers by default, English with lang="en". Text cells that start with = + - @ (or a
tab/CR) are prefixed with ' so a spreadsheet never runs registry text as a formula (formula injection).
CSV is UTF-8 with a BOM so Excel reads it; Parquet keeps the machine column names and raw values (it is
for programs, not Excel).

Every sheet reads a mart (marts.weekly_changes, open_records, removal_candidates, review_queue, licence_risk,
operator_risk); the export counts nothing itself. A watchlist (关注名单: a compliance team's group companies,
CSV `name,uscc`) is a scope: the licensed operators the linker (transforms.link.link_records) attaches to
its entries; every sheet is the mart filtered to them, and the entries that matched none are named.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from pipelines.uscc import InvalidUSCC, validate_uscc
from spiders.source import record_types
from transforms.link import LinkInputError, link_records
from transforms.link.files import read_table
from transforms.reporting import iso_week, parse_week

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LANGS = ("zh", "en")
# The lists whose rows are highlighted (失信名单, 失信被执行人, 严重违法失信名单, …): the record types whose
# source.yml flags them `dishonest_list` (spiders/source.py; seeds.record_types in the warehouse).
DISHONEST_TYPES = frozenset(t.name for t in record_types().values() if t.dishonest_list)
WATCHLIST_COLUMNS = ("name", "uscc")


class WatchlistError(ValueError):
    """A watchlist file (关注名单) that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Column:
    """One exported column: machine name, Chinese and English header, and how to format it."""

    name: str
    zh: str
    en: str
    kind: str = "text"  # text / date / datetime / int / number / bool


@dataclass(frozen=True)
class Sheet:
    key: str  # file stem of the CSV/Parquet
    zh: str
    en: str
    columns: tuple[Column, ...]

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def headers(self, lang: str) -> list[str]:
        return [c.zh if lang == "zh" else c.en for c in self.columns]


@dataclass(frozen=True)
class WatchlistEntry:
    """One line of a watchlist: a group company by name and/or 统一社会信用代码."""

    line: int
    name: str | None
    uscc: str | None

    @property
    def entry_id(self) -> str:
        return f"watchlist:{self.line}"

    def label(self) -> str:
        return " / ".join(p for p in (self.name, self.uscc) if p)


@dataclass
class ExportResult:
    """What export_week wrote: the files, the watchlist entries that matched nothing, rows per sheet."""

    files: list[Path] = field(default_factory=list)
    unmatched: list[WatchlistEntry] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)


C = Column
RECORD_TYPE = C("record_type", "记录类型", "Record type")
PLATFORM = C("platform", "发布平台", "Platform")
REFERENCE = C("reference", "文书号/名单编号", "Reference")
SUBJECT = C("subject_name", "当事人", "Subject")
OPERATOR_ID = C("operator_id", "经营者编号", "Operator id")
OPERATOR_NAME = C("operator_name", "企业名称", "Company name")
EVENT_ON = C("event_on", "决定/列入日期", "Decided/listed on", "date")
AUTHORITY = C("authority", "作出决定机关", "Authority")
SUMMARY = C("summary", "内容摘要", "Summary")
REMOVAL_STATUS = C("removal_status", "修复状态", "Removal status")
EARLY = C("early_removal_from", "可申请修复日", "Early removal from", "date")
AUTO = C("auto_removal_on", "停止公示日（首个不再公示日）", "First day not shown", "date")
DISPLAY_UNTIL = C("display_until", "公示截止日", "Shown until", "date")
ESCALATION = C("escalation_on", "列入严重违法失信名单风险日", "Escalation on", "date")
DEADLINE = C("removal_deadline", "应删除期限（工作日）", "Removal deadline (working days)", "date")
REASON = C("removal_reason", "说明（缺失信息/假定）", "Note (missing facts, assumptions)")
BASIS = C("basis", "依据", "Basis")
CONFIDENCE = C("confidence", "规则确认度", "Rule confidence")
URL = C("url", "来源链接", "Source URL")
RECORD_ID = C("record_id", "记录编号", "Record id")

SUMMARY_SHEET = Sheet("summary", "概览", "Summary", (C("metric", "指标", "Metric"), C("value", "数值", "Value")))
NEW_SHEET = Sheet("new_this_week", "本周新增", "New this week", (
    C("change", "变化", "Change"), C("changed_at", "发现时间", "Seen at", "datetime"), OPERATOR_ID, OPERATOR_NAME,
    C("link_status", "关联状态", "Link status"), RECORD_TYPE, PLATFORM, REFERENCE, SUBJECT, EVENT_ON, AUTHORITY,
    SUMMARY, URL, RECORD_ID))
OPEN_SHEET = Sheet("open_records", "在公示", "Open records", (
    OPERATOR_ID, OPERATOR_NAME, RECORD_TYPE, PLATFORM, REFERENCE, SUBJECT, C("via_branch", "分支机构记录", "Via branch",
                                                                            "bool"),
    EVENT_ON, AUTHORITY, SUMMARY, C("penalty_kinds", "处罚种类", "Penalty kinds"),
    C("fine_yuan", "罚款金额(元)", "Fine (yuan)", "number"), REMOVAL_STATUS, EARLY, DISPLAY_UNTIL, AUTO,
    ESCALATION, DEADLINE, BASIS, CONFIDENCE,
    C("alt_rule_id", "另一解读：适用规则", "Alternative reading: rule"),
    C("alt_early_removal_from", "另一解读：可申请修复日", "Alternative reading: early removal from", "date"),
    C("alt_auto_removal_on", "另一解读：停止公示日", "Alternative reading: first day not shown", "date"),
    REASON, C("province", "省份", "Province"), URL,
    C("first_seen_at", "首次发现", "First seen", "datetime"), RECORD_ID))
REMOVAL_SHEET = Sheet("removal_candidates", "可申请修复", "Removal candidates", (
    OPERATOR_ID, OPERATOR_NAME, RECORD_TYPE, PLATFORM, REFERENCE, SUBJECT, EVENT_ON, AUTHORITY, REMOVAL_STATUS, EARLY,
    DISPLAY_UNTIL, AUTO, ESCALATION, C("days_until_eligible", "距可申请天数", "Days until eligible", "int"),
    C("materials", "需准备材料", "Materials"), C("where_to_apply", "申请渠道", "Where to apply"), BASIS, CONFIDENCE,
    RECORD_ID))
REPAIR_SHEET = Sheet("repair_cases", "修复进度", "Repair progress", (
    C("case_id", "案件编号", "Case"), C("state", "案件状态", "State"), C("overdue", "逾期", "Overdue", "bool"),
    OPERATOR_ID, OPERATOR_NAME, RECORD_TYPE, PLATFORM, REFERENCE, SUBJECT, AUTHORITY,
    C("opened_on", "立案日", "Opened on", "date"), C("submitted_on", "申请提交日", "Submitted on", "date"),
    C("receipt_no", "受理编号", "Receipt no."), C("outcome_on", "答复日", "Decided on", "date"),
    C("outcome_reason", "不予修复理由", "Rejection reason"), C("deadline_kind", "期限类型", "Deadline"),
    C("deadline", "期限（工作日计）", "Due (working days)", "date"),
    C("days_to_deadline", "距期限天数", "Days to deadline", "int"), C("days_open", "已办理天数", "Days open", "int"),
    C("verified_on", "核实日（撤下/仍公示）", "Verified on (removed / still shown)", "date"),
    C("deadline_note", "期限说明", "Deadline note"), RECORD_ID))
REVIEW_SHEET = Sheet("review_queue", "待复核", "Review queue", (
    RECORD_TYPE, PLATFORM, REFERENCE, SUBJECT, C("subject_uscc", "当事人统一社会信用代码", "Subject USCC"),
    C("candidate_operator_id", "候选经营者编号", "Candidate operator id"),
    C("candidate_operator_name", "候选企业名称", "Candidate company"), C("method", "关联方法", "Method"),
    C("score", "相似度", "Score", "number"), C("evidence", "依据详情", "Evidence"), EVENT_ON, RECORD_ID))
LICENCE_SHEET = Sheet("licence_risk", "许可证风险", "Licence risk", (
    C("licence_no", "许可证编号", "Licence no."), OPERATOR_ID, OPERATOR_NAME, C("issuer", "发证机关", "Issuer"),
    C("business_codes", "业务种类代码", "Business codes"), C("expires_on", "到期日", "Expires on", "date"),
    C("days_to_expiry", "距到期天数", "Days to expiry", "int"),
    C("blocking_lists", "影响续期的名单", "Lists blocking renewal"),
    C("annual_report_warning", "年报预警", "Annual report warning"),
    C("annual_report_due_on", "年报截止日", "Annual report due on", "date"),
    C("annual_report_days_left", "距年报截止天数（负数为逾期）", "Days left (negative: overdue)", "int"), BASIS))
# 年报预警: early warnings from marts.annual_report_warnings (telecom licence and company annual reports).
ANNUAL_SHEET = Sheet("annual_report_warnings", "年报预警", "Annual report warnings", (
    OPERATOR_ID, OPERATOR_NAME, C("report_kind", "年报类型", "Report"), C("licence_no", "许可证编号", "Licence no."),
    C("report_year", "应报年度", "Report year", "int"), C("last_filed_year", "最近已报年度", "Last filed year", "int"),
    C("due_on", "报送截止日", "Due on", "date"),
    C("days_left", "剩余天数（负数为逾期）", "Days left (negative: overdue)", "int"),
    C("overdue", "已逾期", "Overdue", "bool"), C("warning_zh", "预警", "Warning (Chinese)"),
    C("warning", "预警（英文）", "Warning"), BASIS))
CLOUD_SHEET = Sheet("cloud_rating", "云服务信用评价", "Cloud credit rating", (
    OPERATOR_ID, OPERATOR_NAME, C("is_cloud", "持有云服务(互联网资源协作)许可", "Cloud licence", "bool"),
    C("cloud_rating_dimension1", "维度一：电信业务经营信用(分)", "Dimension 1: telecom credit (points)", "int"),
    C("cloud_rating_dimension1_reasons", "维度一得分依据", "Dimension 1: records that decided it"),
    C("cloud_rating_entries_for_review", "需报自律委员会的名单条目", "List entries to report (not scored)", "int"),
    C("cloud_rating_review_notes", "报备说明", "Entries to report: notes"),
    C("on_telecom_bad_list", "在不良名单", "On the bad list", "bool"),
    C("on_telecom_dishonest_list", "在失信名单", "On the dishonest list", "bool"),
    C("next_escalation_on", "最近列入严重违法失信名单风险日", "Next escalation on", "date")))
SHEETS = (SUMMARY_SHEET, NEW_SHEET, OPEN_SHEET, REMOVAL_SHEET, REPAIR_SHEET, REVIEW_SHEET, LICENCE_SHEET,
          ANNUAL_SHEET, CLOUD_SHEET)

# Codes shown as words in the workbook (zh, en); Parquet keeps the codes.
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "record_type": {t.name: (t.label_zh, t.label_en) for t in record_types().values()},
    "removal_status": {
        "eligible": ("可申请修复", "Eligible now"), "waiting": ("等待期内", "Waiting"),
        "conditions_unmet": ("条件未满足", "Conditions unmet"), "barred": ("不得修复", "Barred"),
        "expired": ("公示期满", "Display period over"), "not_published": ("不予公示", "Not published"),
        "unknown": ("待补充信息", "Unknown: a fact is missing"),
    },
    "change": {"new": ("新增", "New"), "changed": ("变更", "Changed"), "removed": ("已撤下", "Removed")},
    "state": {  # repair cases (transforms/repair/cases.py)
        "open": ("已立案", "Open"), "submitted": ("已提交申请", "Submitted"), "accepted": ("同意修复", "Accepted"),
        "rejected": ("不予修复", "Rejected"), "removed_verified": ("已核实撤下", "Removal verified"),
        "still_shown": ("逾期仍公示", "Still shown"),
    },
    "deadline_kind": {"decision": ("答复期限", "Decision due"), "removal": ("撤下期限", "Removal due")},
    "link_status": {"linked": ("已关联", "Linked"), "review": ("待复核", "To review"), "none": ("未关联", "None")},
    # the annual reports' labels live with their deadlines (transforms/seeds/annual_report_deadlines.csv)
    "report_kind": {row["report_kind"]: (row["label_zh"], row["label_en"]) for row in csv.DictReader(
        (Path(__file__).parent / "seeds" / "annual_report_deadlines.csv").read_text("utf-8").splitlines())},
}

# Every sheet reads a mart (reports read the marts; they do not recompute them). {scope} narrows it to the
# operators a watchlist links to (empty: every licensed operator).
NEW_SQL = """
SELECT change, changed_at, operator_id, operator_name, link_status, record_type, platform, reference, subject_name,
       event_on, authority, summary, url, record_id
FROM marts.weekly_changes
WHERE reporting_week = $week AND link_status IN ('linked', 'review') {scope}
ORDER BY change, changed_at DESC, record_id
"""
OPEN_SQL = """
SELECT * FROM marts.open_records WHERE true {scope} ORDER BY operator_name, event_on DESC, record_id
"""
REMOVAL_SQL = """
SELECT * FROM marts.removal_candidates WHERE true {scope} ORDER BY early_removal_from, operator_name, record_id
"""
REVIEW_SQL = """
SELECT * FROM marts.review_queue WHERE true {candidate_scope} ORDER BY score DESC, record_id
"""
CLOUD_SQL = """
SELECT operator_id, name AS operator_name, is_cloud, cloud_rating_dimension1, cloud_rating_dimension1_reasons,
       cloud_rating_entries_for_review, cloud_rating_review_notes, on_telecom_bad_list, on_telecom_dishonest_list,
       next_escalation_on
FROM marts.operator_risk WHERE true {scope}
ORDER BY cloud_rating_dimension1, cloud_rating_entries_for_review DESC, name
"""
# 修复进度: the repair cases, overdue first.
REPAIR_SQL = """
SELECT * FROM marts.repair_cases WHERE true {scope} ORDER BY overdue DESC, case_id
"""
LICENCE_SQL = """
SELECT licence_no, operator_id, operator_name, issuer, business_codes, expires_on, days_to_expiry,
       blocking_lists, annual_report_warning, annual_report_due_on, annual_report_days_left, basis
FROM marts.licence_risk WHERE true {scope}
ORDER BY expires_on, licence_no
"""
ANNUAL_SQL = """
SELECT operator_id, operator_name, report_kind, licence_no, report_year, last_filed_year, due_on, days_left,
       overdue, warning_zh, warning, basis
FROM marts.annual_report_warnings WHERE true {scope}
ORDER BY days_left, operator_name, licence_no
"""
SCOPE_SQL = "AND list_contains($operators, operator_id)"


@dataclass(frozen=True)
class Scope:
    """What an export or a report covers (范围): every licensed operator, or those a watchlist links to.

    `operators` is None for every licensed operator; `entries` and `unmatched` are the watchlist's lines
    and those that link to no licensed operator."""

    operators: tuple[str, ...] | None = None
    entries: tuple[WatchlistEntry, ...] = ()
    unmatched: tuple[WatchlistEntry, ...] = ()

    @property
    def is_watchlist(self) -> bool:
        return self.operators is not None

    def sql(self, column: str = "operator_id") -> str:
        return "" if self.operators is None else SCOPE_SQL.replace("operator_id", column)


EVERY_OPERATOR = Scope()


def escape_cell(value: Any) -> Any:
    """Neutralise a cell a spreadsheet would read as a formula; other values pass through unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown export language {lang!r}: use zh or en")


def read_watchlist(path: Path) -> list[WatchlistEntry]:
    """The watchlist CSV (`name,uscc`, UTF-8, either cell may be empty but not both).

    WatchlistError naming the file and line for: not UTF-8, a missing column, a wrong field count, a line
    with neither name nor USCC, an invalid USCC, a USCC listed twice, or no entries at all.
    """
    path = Path(path)
    try:
        table, lines = read_table(path, WATCHLIST_COLUMNS)
    except LinkInputError as error:
        raise WatchlistError(f"watchlist {error}") from None
    except OSError as error:
        raise WatchlistError(f"watchlist {path}: cannot read: {error.strerror}") from None
    entries: list[WatchlistEntry] = []
    seen: dict[str, int] = {}
    for line, name, raw_uscc in zip(lines, table["name"].tolist(), table["uscc"].tolist(), strict=True):
        name = name.strip() if name else None
        uscc = None
        if raw_uscc:
            try:
                uscc = validate_uscc(raw_uscc)
            except InvalidUSCC as error:
                raise WatchlistError(f"watchlist {path}: line {line}: {error}") from None
            if uscc in seen:
                raise WatchlistError(f"watchlist {path}: line {line}: USCC {uscc} already on line {seen[uscc]}")
            seen[uscc] = line
        if not name and not uscc:
            raise WatchlistError(f"watchlist {path}: line {line}: neither a name nor a USCC")
        entries.append(WatchlistEntry(line, name or None, uscc))
    if not entries:
        raise WatchlistError(f"watchlist {path}: no entries (expected lines of name,uscc after the header)")
    return entries


def _watchlist_operators(entries: list[WatchlistEntry]) -> pd.DataFrame:
    # An entry with only a USCC gets the code as its name: the linker needs a name, and a code never
    # name-matches a company name, so such an entry links by USCC alone.
    return pd.DataFrame({
        "operator_id": [e.entry_id for e in entries],
        "name": [e.name or e.uscc for e in entries],
        "uscc": [e.uscc for e in entries],
        "aliases": [None] * len(entries),
    }, dtype=object)


def watchlist_scope(con: duckdb.DuckDBPyConnection, path: Path) -> Scope:
    """The licensed operators a watchlist names (linked with the same linker as the records): a scope over
    the marts. WatchlistError for a bad file (file and line named)."""
    entries = read_watchlist(path)
    operators = _watchlist_operators(entries)
    licensed = con.execute(
        "SELECT operator_id AS record_id, name, uscc FROM core.licensed_operators ORDER BY operator_id").df()
    holders = link_records(operators, licensed.astype(object)) if len(licensed) else pd.DataFrame(
        columns=["record_id", "operator_id", "status"])
    holders = holders[holders["status"] == "linked"]
    matched = set(holders["operator_id"])
    return Scope(operators=tuple(sorted(set(holders["record_id"]))), entries=tuple(entries),
                 unmatched=tuple(e for e in entries if e.entry_id not in matched))


def _as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The date the marts were built for (as_of column), today when the warehouse has no operators."""
    [(day,)] = con.execute("SELECT max(as_of) FROM marts.operator_risk").fetchall()
    return day or date.today()


@dataclass(frozen=True)
class SheetQuery:
    """A sheet's rows: the SQL over its mart (in the sheet's order) and the parameters it uses."""

    sheet: Sheet
    sql: str
    params: dict[str, Any]


def sheet_frame(con: duckdb.DuckDBPyConnection, query: SheetQuery) -> pd.DataFrame:
    return _typed(con.execute(query.sql, query.params).df(), query.sheet)


def _typed(frame: pd.DataFrame, sheet: Sheet) -> pd.DataFrame:
    """The sheet's columns in order, DATE columns as dates (pandas reads them as midnight timestamps)."""
    frame = frame[[c.name for c in sheet.columns]].copy()
    for column in sheet.columns:
        if column.kind == "date":
            frame[column.name] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[column.name]]
    return frame


def scope_of(con: duckdb.DuckDBPyConnection, watchlist: Path | None) -> Scope:
    return EVERY_OPERATOR if watchlist is None else watchlist_scope(con, watchlist)


def sheet_queries(con: duckdb.DuckDBPyConnection, week: str, scope: Scope = EVERY_OPERATOR) -> list[SheetQuery]:
    """Every sheet's query but the summary's, for one week and scope. Raises ValueError for a week that starts
    after the warehouse's as-of date."""
    monday, _ = parse_week(week)
    as_of = _as_of(con)
    if monday > as_of:
        raise ValueError(f"week {week!r} starts {monday}, after the warehouse's as-of date {as_of}")
    params: dict[str, Any] = {"week": iso_week(monday), "operators": list(scope.operators or ())}
    where = {"scope": scope.sql(), "candidate_scope": scope.sql("candidate_operator_id")}
    queries = []
    for sheet, template in ((NEW_SHEET, NEW_SQL), (OPEN_SHEET, OPEN_SQL), (REMOVAL_SHEET, REMOVAL_SQL),
                            (REPAIR_SHEET, REPAIR_SQL), (REVIEW_SHEET, REVIEW_SQL), (LICENCE_SHEET, LICENCE_SQL),
                            (ANNUAL_SHEET, ANNUAL_SQL), (CLOUD_SHEET, CLOUD_SQL)):
        sql = template.format(**where)
        queries.append(SheetQuery(sheet, sql, {k: v for k, v in params.items() if f"${k}" in sql}))
    return queries


def collect_tables(con: duckdb.DuckDBPyConnection, week: str,
                   scope: Scope = EVERY_OPERATOR) -> dict[str, pd.DataFrame]:
    """Every sheet's rows (machine column names, codes not yet labelled), read from the marts in `scope`. Whole
    tables in memory: export_week streams them instead."""
    queries = sheet_queries(con, week, scope)
    frames = {q.sheet.key: sheet_frame(con, q) for q in queries}
    return {SUMMARY_SHEET.key: summary_frame(con, queries, week, scope), **frames}


_DISHONEST_SQL = ", ".join(f"'{t}'" for t in sorted(DISHONEST_TYPES)) or "NULL"
# 概览's figures: (metric, the sheet it counts, the aggregate over that sheet's rows), in the order shown.
SUMMARY_FIGURES = (
    ("operators_with_open_records", OPEN_SHEET, "count(DISTINCT operator_id)"),
    ("open_records", OPEN_SHEET, "count(*)"),
    ("open_dishonest_records", OPEN_SHEET, f"count(*) FILTER (record_type IN ({_DISHONEST_SQL}))"),
    ("new_this_week", NEW_SHEET, "count(*) FILTER (change = 'new')"),
    ("changed_this_week", NEW_SHEET, "count(*) FILTER (change = 'changed')"),
    ("removed_this_week", NEW_SHEET, "count(*) FILTER (change = 'removed')"),
    ("removal_candidates", REMOVAL_SHEET, "count(*)"),
    ("repair_cases", REPAIR_SHEET, "count(*)"),
    ("repair_cases_overdue", REPAIR_SHEET, "count(*) FILTER (overdue)"),
    ("links_to_review", REVIEW_SHEET, "count(*)"),
    ("licences_at_risk", LICENCE_SHEET, "count(*)"),
    ("annual_report_warnings", ANNUAL_SHEET, "count(*)"),
    ("annual_reports_overdue", ANNUAL_SHEET, "count(*) FILTER (overdue)"),
    ("cloud_rating_below_30", CLOUD_SHEET, "count(*) FILTER (cloud_rating_dimension1 < 30)"),
    ("cloud_rating_entries_for_review", CLOUD_SHEET, "coalesce(sum(cloud_rating_entries_for_review), 0)"),
)


def sheet_figures(con: duckdb.DuckDBPyConnection, queries: list[SheetQuery]) -> dict[str, int]:
    """概览's figures, and each sheet's row count as `rows:<key>`, counted by the database (not in memory)."""
    figures: dict[str, int] = {}
    for query in queries:
        key = query.sheet.key
        wanted = [(metric, aggregate) for metric, sheet, aggregate in SUMMARY_FIGURES if sheet is query.sheet]
        columns = ", ".join(["count(*)", *(aggregate for _, aggregate in wanted)])
        values = con.execute(f"SELECT {columns} FROM ({query.sql})", query.params).fetchone()
        figures[f"rows:{key}"] = int(values[0])
        figures.update({metric: int(value) for (metric, _), value in zip(wanted, values[1:], strict=True)})
    return figures


def summary_frame(con: duckdb.DuckDBPyConnection, queries: list[SheetQuery], week: str, scope: Scope,
                  figures: dict[str, int] | None = None) -> pd.DataFrame:
    """概览: the figures a reader wants first (metric keys are labelled per language when written)."""
    figures = figures if figures is not None else sheet_figures(con, queries)
    monday, sunday = parse_week(week)
    rows: list[tuple[str, str]] = [
        ("week", f"{week} ({monday} – {sunday})"),
        ("as_of", _as_of(con).isoformat()),
        ("scope", "watchlist" if scope.is_watchlist else "licensed_operators"),
        *((metric, str(figures[metric])) for metric, _, _ in SUMMARY_FIGURES),
    ]
    if scope.is_watchlist:
        rows.append(("watchlist_entries", str(len(scope.entries))))
        rows.append(("watchlist_unmatched", str(len(scope.unmatched))))
        rows += [("unmatched_entry", f"line {e.line}: {e.label()}") for e in scope.unmatched]
    return pd.DataFrame(rows, columns=["metric", "value"], dtype=object)


SUMMARY_LABELS: dict[str, tuple[str, str]] = {
    "week": ("统计周", "Week"), "as_of": ("数据截至", "As of"), "scope": ("范围", "Scope"),
    "licensed_operators": ("全部持证经营者", "All licensed operators"), "watchlist": ("关注名单", "Watchlist"),
    "operators_with_open_records": ("有在公示记录的企业数", "Companies with open records"),
    "open_records": ("在公示记录数", "Open records"),
    "open_dishonest_records": ("失信类名单记录数", "Open dishonest-list records"),
    "new_this_week": ("本周新增", "New this week"), "changed_this_week": ("本周变更", "Changed this week"),
    "removed_this_week": ("本周撤下", "Removed this week"),
    "removal_candidates": ("可申请修复", "Removal candidates"),
    "repair_cases": ("修复案件", "Repair cases"), "repair_cases_overdue": ("逾期修复案件", "Repair cases overdue"),
    "links_to_review": ("待复核关联", "Links to review"),
    "licences_at_risk": ("续期受影响或年报未报的许可证", "Licences at risk"),
    "annual_report_warnings": ("年报预警（未报送）", "Annual reports not filed"),
    "annual_reports_overdue": ("其中已逾期", "of which past the deadline"),
    "cloud_rating_below_30": ("云服务信用维度一未满分的企业", "Companies below 30 on cloud rating dimension 1"),
    "cloud_rating_entries_for_review": ("需报自律委员会的名单条目", "List entries to report (not scored)"),
    "watchlist_entries": ("关注名单条目", "Watchlist entries"),
    "watchlist_unmatched": ("未匹配任何记录的条目", "Entries that matched nothing"),
    "unmatched_entry": ("未匹配条目", "Unmatched entry"),
}


def display_frame(sheet: Sheet, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rows as a reader sees them: codes as words in the chosen language (values, not headers)."""
    index = 0 if lang == "zh" else 1
    shown = frame.copy()
    if sheet is SUMMARY_SHEET:
        shown["metric"] = [SUMMARY_LABELS.get(m, (m, m))[index] for m in shown["metric"]]
        shown["value"] = [SUMMARY_LABELS[v][index] if v in ("watchlist", "licensed_operators") else v
                          for v in shown["value"]]
        return shown
    for column, labels in LABELS.items():
        if column in shown.columns:
            shown[column] = [labels[v][index] if v in labels else v for v in shown[column]]
    return shown


def _plain(value: Any) -> Any:
    """A cell as a plain Python value: None for NA/NaT, float for Decimal, date/datetime kept."""
    if value is None or value is pd.NaT or (not isinstance(value, (list, str)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _csv_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_parquet_frame(frame: pd.DataFrame, path: Path) -> None:
    """A small frame (the summary) as Parquet, machine column names and codes."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def _width(value: Any) -> int:
    """Display width: CJK characters take two columns."""
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


class _Formats:
    """xlsxwriter formats by (kind, highlighted), created once per workbook."""

    NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "int": "0", "number": "#,##0.00"}

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[str, bool], Any] = {}
        self.header = book.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True,
                                       "valign": "top"})

    def get(self, kind: str, highlighted: bool) -> Any:
        key = (kind, highlighted)
        if key not in self.cache:
            spec: dict[str, Any] = {"valign": "top"}
            if kind in self.NUMBER_FORMATS:
                spec["num_format"] = self.NUMBER_FORMATS[kind]
            if highlighted:
                spec["bg_color"] = "#F8D7DA"  # dishonest-list rows
            self.cache[key] = self.book.add_format(spec)
        return self.cache[key]


def _write_cell(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    # Typed writes only: write_string never turns text into a formula, whatever it starts with.
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, fmt)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, datetime.min.time()), fmt)
    else:
        sheet.write_string(row, col, escape_cell(str(value)), fmt)


# Rows an Excel worksheet holds, its header included. A longer table goes on in continuation sheets, "<title>
# (2)", … (xlsxwriter drops a cell past the last row without an error: at 10M records the week-1 本周新增 has
# 2.7M rows).
EXCEL_MAX_ROWS = 1_048_576


def sheet_parts(spec: Sheet, rows: int, lang: str) -> list[tuple[str, range]]:
    """(title, rows of the table) of each worksheet a table of `rows` rows takes: one, unless it is longer
    than a worksheet holds."""
    per_sheet = EXCEL_MAX_ROWS - 1
    starts = range(0, max(rows, 1), per_sheet)
    return [(spec.title(lang) if n == 0 else f"{spec.title(lang)} ({n + 1})",
             range(start, min(start + per_sheet, rows))) for n, start in enumerate(starts)]


class _SheetWriter:
    """Writes one table's rows into the workbook as they come, on as many worksheets as Excel's row limit
    needs (sheet_parts), each with its frozen, filtered header and its column widths."""

    def __init__(self, book: xlsxwriter.Workbook, formats: _Formats, spec: Sheet, rows: int, lang: str) -> None:
        self.book, self.formats, self.spec, self.lang = book, formats, spec, lang
        self.parts = sheet_parts(spec, rows, lang)
        self.part = -1
        self.sheet: Any = None
        self.row = 0
        self.widths: list[int] = []
        self._next_part()

    def _next_part(self) -> None:
        self._finish_part()
        self.part += 1
        title, rows = self.parts[self.part]
        headers = self.spec.headers(self.lang)
        self.sheet = self.book.add_worksheet(title)
        # constant_memory writes each row when the next begins: the layout comes first, the rows in order.
        self.sheet.freeze_panes(1, 0)
        self.sheet.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
        for col, header in enumerate(headers):
            self.sheet.write_string(0, col, header, self.formats.header)
        self.widths = [_width(h) for h in headers]
        self.row = 0

    def write(self, shown: pd.DataFrame, dishonest: list[bool]) -> None:
        for values, highlighted in zip(shown.itertuples(index=False), dishonest, strict=True):
            if self.row == len(self.parts[self.part][1]):
                self._next_part()
            self.row += 1
            for col, (column, raw) in enumerate(zip(self.spec.columns, values, strict=True)):
                value = _plain(raw)
                _write_cell(self.sheet, self.row, col, value, self.formats.get(column.kind, highlighted))
                self.widths[col] = max(self.widths[col],
                                       10 if column.kind in ("date", "datetime") else _width(value))

    def _finish_part(self) -> None:
        for col, width in enumerate(self.widths):
            self.sheet.set_column(col, col, min(max(width + 2, 8), 60))

    def close(self) -> None:
        self._finish_part()


class _CsvWriter:
    """CSV, UTF-8 with BOM (Excel reads it), formula-looking cells escaped; rows appended as they come."""

    def __init__(self, path: Path, headers: list[str]) -> None:
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(headers)

    def write(self, shown: pd.DataFrame) -> None:
        for row in shown.itertuples(index=False):
            self.writer.writerow(["" if (v := _plain(x)) is None else escape_cell(_csv_text(v)) for x in row])

    def close(self) -> None:
        self.handle.close()


def _dishonest(frame: pd.DataFrame) -> list[bool]:
    if "record_type" in frame.columns:
        return frame["record_type"].isin(DISHONEST_TYPES).tolist()
    return [False] * len(frame)


# Rows fetched at a time by export_week (DuckDB vectors of 2,048): the tables are never whole in memory.
CHUNK_VECTORS = 50


def export_week(con: duckdb.DuckDBPyConnection, out_dir: Path, week: str, lang: str = "zh",
                scope: Scope = EVERY_OPERATOR) -> ExportResult:
    """Write creditwatch-<week>.xlsx and every sheet as <key>.csv and <key>.parquet into `out_dir`, streaming
    each table from its mart (CHUNK_VECTORS at a time; the Parquet written by DuckDB, with the marts' types).
    Every file is written under a temporary name and renamed once all are complete: a failure leaves the
    folder as it was.

    Raises ValueError for an unknown language or a malformed / future week, WatchlistError for a bad
    watchlist (file and line named).
    """
    _check_lang(lang)
    queries = sheet_queries(con, week, scope)
    figures = sheet_figures(con, queries)
    summary = summary_frame(con, queries, week, scope, figures)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ExportResult(unmatched=list(scope.unmatched),
                          row_counts={SUMMARY_SHEET.key: len(summary),
                                      **{q.sheet.key: figures[f"rows:{q.sheet.key}"] for q in queries}})
    finals = [out_dir / f"creditwatch-{week}.xlsx"]
    for spec in SHEETS:
        finals += [out_dir / f"{spec.key}.csv", out_dir / f"{spec.key}.parquet"]
    temps = {path: path.with_name(path.name + ".tmp") for path in finals}
    try:
        book = xlsxwriter.Workbook(str(temps[finals[0]]), {"strings_to_formulas": False, "strings_to_urls": False,
                                                            "remove_timezone": True, "constant_memory": True})
        formats = _Formats(book)
        _write_table(book, formats, SUMMARY_SHEET, [summary], len(summary), lang, temps[out_dir / "summary.csv"])
        _write_parquet_frame(summary, temps[out_dir / "summary.parquet"])
        for query in queries:
            _write_table(book, formats, query.sheet, _chunks(con, query), figures[f"rows:{query.sheet.key}"], lang,
                         temps[out_dir / f"{query.sheet.key}.csv"])
            columns = ", ".join(f'"{c.name}"' for c in query.sheet.columns)
            con.sql(f"SELECT {columns} FROM ({query.sql})", params=query.params).write_parquet(
                str(temps[out_dir / f"{query.sheet.key}.parquet"]))
        book.close()
    except BaseException:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        raise
    for final, temp in temps.items():
        temp.replace(final)
    result.files += finals
    return result


def _chunks(con: duckdb.DuckDBPyConnection, query: SheetQuery) -> Iterator[pd.DataFrame]:
    """A sheet's rows from its mart, CHUNK_VECTORS at a time, typed as the sheet shows them."""
    result = con.execute(query.sql, query.params)
    while len(chunk := result.fetch_df_chunk(CHUNK_VECTORS)):
        yield _typed(chunk, query.sheet)


def _write_table(book: xlsxwriter.Workbook, formats: _Formats, spec: Sheet, frames: Iterable[pd.DataFrame],
                 rows: int, lang: str, csv_path: Path) -> None:
    """A table's `rows` rows, frame by frame, into its worksheet(s) and its CSV."""
    sheet = _SheetWriter(book, formats, spec, rows, lang)
    table = _CsvWriter(csv_path, spec.headers(lang))
    try:
        for frame in frames:
            shown = display_frame(spec, frame, lang)
            sheet.write(shown, _dishonest(frame))
            table.write(shown)
    finally:
        table.close()
    sheet.close()
