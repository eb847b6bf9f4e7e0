"""The linker's file interface: OPS.csv + RECS.csv → LINKS.csv (what the CLI command wraps).

OPS.csv  operator_id,name,uscc,aliases   (aliases '|'-separated, may be empty)
RECS.csv record_id,name,uscc             (uscc may be empty or wrong)
LINKS.csv record_id,operator_id,status,method,score — one row per record, UTF-8, with a header.
Bad input raises LinkInputError naming the file, the line and the reason; nothing is skipped.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from transforms.link.errors import LinkInputError
from transforms.link.index import OPERATOR_COLUMNS, build_index
from transforms.link.records import RECORD_COLUMNS, link_validated, validated_records

LINK_FILE_COLUMNS = ("record_id", "operator_id", "status", "method", "score")


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise LinkInputError(f"{path}: line {line}: not UTF-8 (byte 0x{data[error.start]:02x} at offset "
                             f"{error.start}); save the file as UTF-8") from None


def read_table(path: Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame, list[int]]:
    """The CSV as a DataFrame of str (blank cells → None) and the file line where each row starts.

    LinkInputError (file, line, reason) for: not UTF-8, no header, a missing column, a row with the wrong
    number of fields.
    """
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    header = next(reader, None)
    if header is None:
        raise LinkInputError(f"{path}: line 1: empty file, expected header {','.join(columns)}")
    header = [h.strip() for h in header]
    missing = [c for c in columns if c not in header]
    if missing:
        raise LinkInputError(f"{path}: line 1: missing column(s) {', '.join(missing)} in header {header}")
    rows: list[list[str | None]] = []
    lines: list[int] = []
    start = reader.line_num + 1
    for fields in reader:
        if not fields:  # a blank line
            start = reader.line_num + 1
            continue
        if len(fields) != len(header):
            raise LinkInputError(f"{path}: line {start}: {len(fields)} fields, header has {len(header)}")
        rows.append([f if f.strip() else None for f in fields])
        lines.append(start)
        start = reader.line_num + 1
    table = pd.DataFrame(rows, columns=header, dtype=object)
    return table[list(columns)], lines


def link_csv_files(operators_csv: Path, records_csv: Path, out_csv: Path) -> dict[str, int]:
    """Link RECS.csv to OPS.csv and write LINKS.csv; returns the count of records per status.

    Raises LinkInputError naming the file and line for missing columns, empty names, duplicate ids,
    invalid operator USCCs or a file that is not UTF-8. The output is written only when all input is good.
    """
    operators_csv, records_csv, out_csv = Path(operators_csv), Path(records_csv), Path(out_csv)
    operators, op_lines = read_table(operators_csv, OPERATOR_COLUMNS)
    records, rec_lines = read_table(records_csv, RECORD_COLUMNS)
    index = build_index(operators, where=str(operators_csv), lines=op_lines)
    links = link_validated(index, validated_records(records, where=str(records_csv), lines=rec_lines))
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    links[list(LINK_FILE_COLUMNS)].to_csv(out_csv, index=False, encoding="utf-8")
    counts = links["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in ("linked", "review", "none")}
