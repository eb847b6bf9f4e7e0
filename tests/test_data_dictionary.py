"""The README's data dictionary documents every table and view a build makes (a source's own
`staging.<source>__<interface>` views are documented by pattern)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from transforms.build import build
from warehouse.db import connect

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_table_of_a_built_warehouse_is_in_the_data_dictionary(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    try:
        build(con, as_of=date(2026, 11, 23))
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary").fetchall()}
    finally:
        con.close()
    text = README.read_text("utf-8")
    dictionary = text[text.index("## Data dictionary"):text.index("## How it is built")]
    documented = set(re.findall(r"`([a-z_]+\.[a-z0-9_]+)`", dictionary))
    per_source = re.compile(r"staging\.[a-z_]+__(credit_records|licences|licence_business_types|annual_reports)")
    missing = sorted(t for t in tables if t not in documented and not per_source.fullmatch(t))
    assert len(tables) > 40 and missing == []
