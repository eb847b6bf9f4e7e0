"""The linker's file interface: OPS.csv + RECS.csv → LINKS.csv (what the CLI command wraps).

OPS.csv  operator_id,name,uscc,aliases   (aliases '|'-separated, may be empty)
RECS.csv record_id,name,uscc             (uscc may be empty or wrong)
LINKS.csv record_id,operator_id,status,method,score — one row per record, UTF-8, with a header.
Bad input raises LinkInputError naming the file, the line and the reason; nothing is skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipelines.encoding import detect_encoding
from transforms.link.errors import LinkInputError
from transforms.link.index import OPERATOR_COLUMNS, build_index
from transforms.link.records import RECORD_COLUMNS, link_validated, validated_records

LINK_FILE_COLUMNS = ("record_id", "operator_id", "status", "method", "score")


BATCH_ROWS = 500_000  # records linked per batch: the file is streamed, never held whole (identical names
# are decided once per batch, so batches are large: a 300k-row file in batches of 100k was 26 % slower)


def iter_table(path: Path, columns: tuple[str, ...],
               batch_rows: int = BATCH_ROWS) -> Iterator[tuple[pd.DataFrame, list[int]]]:
    """The CSV in batches: DataFrames of str (blank cells → None) and the file line where each row starts.
    Streamed (encoding detected in one pass, then read row by row), so a file of any size fits in memory.

    LinkInputError (file, line, reason) for: no header, a missing column, a row with the wrong
    number of fields.
    """
    with Path(path).open(encoding=detect_encoding(path), newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise LinkInputError(f"{path}: line 1: empty file, expected header {','.join(columns)}")
        header = [h.strip() for h in header]
        missing = [c for c in columns if c not in header]
        if missing:
            raise LinkInputError(f"{path}: line 1: missing column(s) {', '.join(missing)} in header {header}")
        rows: list[list[str | None]] = []
        lines: list[int] = []
        batches = 0
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
            if len(rows) >= batch_rows:
                yield pd.DataFrame(rows, columns=header, dtype=object)[list(columns)], lines
                rows, lines, batches = [], [], batches + 1
        if rows or not batches:  # the last part, or the one empty table of a file with no rows
            yield pd.DataFrame(rows, columns=header, dtype=object)[list(columns)], lines


def read_table(path: Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame, list[int]]:
    """The whole CSV (a file small by nature: operators, a watchlist), as iter_table reads it."""
    frames, lines = [], []
    for frame, batch_lines in iter_table(path, columns, batch_rows=1 << 62):
        frames.append(frame)
        lines += batch_lines
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], lines


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
    index = build_index(operators, where=str(operators_csv), lines=op_lines)
    counts = dict.fromkeys(("linked", "review", "none"), 0)
    first_line: dict[str, int] = {}  # record_id → its line: a duplicate across batches is named too
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_csv.with_name(f".{out_csv.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(LINK_FILE_COLUMNS)
            for records, lines in iter_table(records_csv, RECORD_COLUMNS, BATCH_ROWS):
                batch = validated_records(records, where=str(records_csv), lines=lines)
                for record_id, line in zip(batch.ids, lines, strict=True):
                    if record_id in first_line:
                        raise LinkInputError(f"{records_csv}: line {line}: duplicate record_id {record_id!r} "
                                             f"(first at line {first_line[record_id]})")
                    first_line[record_id] = line
                links = link_validated(index, batch)
                for row in links[list(LINK_FILE_COLUMNS)].itertuples(index=False):
                    writer.writerow(["" if v is None or v != v else escape_cell(v) for v in row])
                for status, count in links["status"].value_counts().items():
                    counts[status] += int(count)
        tmp.replace(out_csv)  # only when every batch was good: a bad line leaves no output
    finally:
        tmp.unlink(missing_ok=True)
    return counts
