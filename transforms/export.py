"""Exports people open in Excel: CSV (UTF-8 with BOM) per mart, Chinese headers by default.

Cells that start with = + - @ (or a tab/CR) are prefixed with ' so Excel never runs them as formulas
(formula injection from registry text).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportTable:
    name: str  # file stem
    query: str
    headers: dict[str, tuple[str, str]]  # column → (中文, English)


OPERATOR_LICENCES = ExportTable(
    "operator_licences",
    "SELECT * EXCLUDE (as_of) FROM marts.operator_licences",
    {
        "operator_id": ("经营者编号", "Operator id"),
        "name": ("企业名称", "Company name"),
        "uscc": ("统一社会信用代码", "USCC"),
        "licence_count": ("许可证数量", "Licences"),
        "licence_numbers": ("许可证编号", "Licence numbers"),
        "business_codes": ("业务种类代码", "Business codes"),
        "is_cloud": ("云服务(互联网资源协作)", "Cloud (B11 resource collaboration)"),
        "is_idc": ("IDC", "IDC"),
        "is_cdn": ("CDN", "CDN"),
        "is_isp": ("ISP", "ISP"),
        "next_licence_expiry": ("最近到期日", "Next licence expiry"),
        "days_to_expiry": ("距到期天数", "Days to expiry"),
        "linked_records": ("关联记录数", "Linked records"),
    },
)
TABLES = [OPERATOR_LICENCES]


def escape_cell(value: Any) -> Any:
    """Neutralise a cell Excel would read as a formula; other values pass through unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def export_csv(con: duckdb.DuckDBPyConnection, out_dir: Path, lang: str = "zh") -> list[Path]:
    """Write every export table as CSV into `out_dir`; returns the files written."""
    if lang not in ("zh", "en"):
        raise ValueError(f"unknown export language {lang!r}: use zh or en")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        relation = con.sql(table.query)
        columns = relation.columns
        headers = [table.headers.get(c, (c, c))[0 if lang == "zh" else 1] for c in columns]
        path = out_dir / f"{table.name}.csv"
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for row in relation.fetchall():
                writer.writerow([escape_cell(v) for v in row])
        tmp.replace(path)
        written.append(path)
    return written
