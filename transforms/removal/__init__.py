"""Removal rules as data (rules.yaml) and the engine that applies them in DuckDB (removal_status.sql).

When a negative public credit record (行政处罚信息, 经营异常名录, 严重违法失信名单, 电信不良/失信名单,
失信被执行人, 重大税收违法失信主体) stops being displayed, and when early removal (信用修复 /
提前停止公示) may be applied for, counted as 民法典 Arts 200–204 count periods. See rules.yaml for every
rule with its legal basis.
"""

from transforms.removal.csv_io import (
    OUT_COLUMNS,
    CasesFileError,
    RemovalFileResult,
    RowError,
    read_cases,
    removal_csv,
)
from transforms.removal.engine import (
    CASE_COLUMNS,
    STATUSES,
    Handling,
    LowFineThreshold,
    Rule,
    RuleFileError,
    evaluate_cases,
    load_low_fine_thresholds,
    load_rules,
)

__all__ = [
    "CASE_COLUMNS",
    "OUT_COLUMNS",
    "CasesFileError",
    "RemovalFileResult",
    "STATUSES",
    "Handling",
    "LowFineThreshold",
    "RowError",
    "Rule",
    "RuleFileError",
    "evaluate_cases",
    "load_low_fine_thresholds",
    "load_rules",
    "read_cases",
    "removal_csv",
]
