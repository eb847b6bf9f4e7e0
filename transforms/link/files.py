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

from pipelines.encoding import read_text
from transforms.link.errors import LinkInputError
from transforms.link.index import OPERATOR_COLUMNS, build_index
from transforms.link.records import RECORD_COLUMNS, link_validated, validated_records

LINK_FILE_COLUMNS = ("record_id", "operator_id", "status", "method", "score")


def _decode(path: Path) -> str:
    """The file's text: UTF-8 (BOM or not), else GB18030 (GBK), as ingest reads files."""
    return read_text(path)


def read_table(path: Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame, list[int]]:
    """The CSV as a DataFrame of str (blank cells → None) and the file line where each row starts.

    LinkInputError (file, line, reason) for: no header, a missing column, a row with the wrong
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
    invalid operator USCCs, or an --out that is one of the inputs. The files may be UTF-8 or GB18030/GBK.
    The output is written only when all input is good, atomically; cells a spreadsheet would run as a
    formula (= + - @) are escaped as the export escapes them.
    """
    from transforms.export import escape_cell  # the export imports this module: import when called

    operators_csv, records_csv, out_csv = Path(operators_csv), Path(records_csv), Path(out_csv)
    for source in (operators_csv, records_csv):
        if out_csv.exists() and source.exists() and out_csv.samefile(source) or out_csv.resolve() == source.resolve():
            raise LinkInputError(f"{out_csv}: --out is the input file {source}; choose another file")
    operators, op_lines = read_table(operators_csv, OPERATOR_COLUMNS)
    records, rec_lines = read_table(records_csv, RECORD_COLUMNS)
    index = build_index(operators, where=str(operators_csv), lines=op_lines)
    links = link_validated(index, validated_records(records, where=str(records_csv), lines=rec_lines))
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_csv.with_name(f".{out_csv.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(LINK_FILE_COLUMNS)
            for row in links[list(LINK_FILE_COLUMNS)].itertuples(index=False):
                writer.writerow(["" if v is None or v != v else escape_cell(v) for v in row])
        tmp.replace(out_csv)
    finally:
        tmp.unlink(missing_ok=True)
    counts = links["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in ("linked", "review", "none")}
