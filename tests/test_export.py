"""Exports are safe to open in Excel: formula-looking cells escaped, BOM, Chinese headers."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import licence_fields, write_run
from transforms.build import build
from transforms.export import escape_cell, export_csv, iso_week
from warehouse.db import connect
from warehouse.load import load_run


def test_formula_cells_are_escaped_and_others_untouched() -> None:
    assert escape_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert escape_cell("+86 10") == "'+86 10"
    assert escape_cell("-1") == "'-1"
    assert escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("北京云启科技有限公司") == "北京云启科技有限公司"
    assert escape_cell(-1) == -1  # numbers are numbers, not text


@given(st.text())
def test_no_escaped_cell_starts_a_formula(text: str) -> None:
    assert not str(escape_cell(text)).startswith(("=", "+", "-", "@"))


def test_iso_week_names_the_folder() -> None:
    assert iso_week(date(2026, 11, 23)) == "2026-W48"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"


def test_csv_round_trips_with_bom_and_chinese_headers(tmp_path: Path, warehouse: Path) -> None:
    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1, "=cmd|' /C calc'!A0")}))
    build(con, as_of=date(2026, 11, 23))
    [path] = export_csv(con, tmp_path / "out")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["企业名称"] == "'=cmd|' /C calc'!A0"
    [english] = export_csv(con, tmp_path / "en", lang="en")
    assert english.read_text("utf-8-sig").startswith("Operator id,Company name")
