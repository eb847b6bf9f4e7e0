"""`creditwatch sql --to FILE`: the CLI, not the query, writes an analyst's extract (提取文件).

Analysts' SQL runs with DuckDB's file access switched off (warehouse.snapshot.ANALYST_GUARDS), so
`COPY … TO` cannot write anywhere; an extract is instead streamed out of the query result by this
module, into one named .parquet or .csv file, written beside the target and renamed into place.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from transforms.export import escape_cell

EXTRACT_SUFFIXES = (".parquet", ".csv")
BATCH_ROWS = 50_000


class ExtractError(ValueError):
    """An extract target the CLI refuses; the message names the file and the reason."""


def check_target(target: Path, protected: Iterable[Path]) -> None:
    """Refuse a target that is not .parquet/.csv, or that is (or sits beside as a WAL/tmp) a protected file."""
    if target.suffix.lower() not in EXTRACT_SUFFIXES:
        raise ExtractError(f"{target}: an extract is a .parquet or .csv file")
    resolved = target.resolve()
    for path in protected:
        base = Path(path).resolve()
        if resolved == base or resolved.name.startswith(base.name) and resolved.parent == base.parent:
            raise ExtractError(f"{target} would overwrite {path} (the warehouse or its snapshot); choose another file")
    if target.is_dir():
        raise ExtractError(f"{target} is a folder; name a file")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return escape_cell(value if isinstance(value, str | int | float | bool) else str(value))


def write_extract(relation: duckdb.DuckDBPyRelation, target: Path) -> int:
    """Stream the rows of `relation` into `target` (.parquet, or .csv in UTF-8 with BOM and formula-looking
    cells escaped), atomically; return the row count. Callers check the target first (check_target)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    rows = 0
    try:
        if target.suffix.lower() == ".parquet":
            reader = relation.fetch_record_batch(BATCH_ROWS)
            with pq.ParquetWriter(tmp, reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    rows += batch.num_rows
        else:
            with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(relation.columns)
                for batch in relation.fetch_record_batch(BATCH_ROWS):
                    columns = [column.to_pylist() for column in batch.columns]
                    writer.writerows([_cell(v) for v in row] for row in zip(*columns, strict=True))
                    rows += batch.num_rows
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return rows
