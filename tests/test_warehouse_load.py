"""Loading run folders: one transaction, reruns change nothing, history follows complete crawls only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.items import record_id
from pipelines.run_folder import MANIFEST_FORMAT, RunFolder
from tests.helpers import licence_fields, write_run
from warehouse.db import WarehouseError, connect
from warehouse.load import LoadError, load_run


def counts(con) -> tuple:
    return con.execute("""SELECT (SELECT count(*) FROM raw.records), (SELECT count(*) FROM raw.record_versions),
                                 (SELECT count(*) FROM raw.records WHERE removed_at IS NOT NULL),
                                 (SELECT count(*) FROM ops.runs)""").fetchone()


def test_loading_the_same_run_twice_changes_nothing(tmp_path: Path, warehouse: Path) -> None:
    run = write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1), "b": licence_fields(2)})
    con = connect(warehouse)
    first = load_run(con, run)
    assert first.loaded and first.new == 2
    before = counts(con)
    again = load_run(con, run)
    assert not again.loaded
    assert counts(con) == before == (2, 2, 0, 1)


def test_changes_make_versions_and_complete_crawls_mark_removals(tmp_path: Path, warehouse: Path) -> None:
    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1), "b": licence_fields(2)},
                            finished_at="2026-11-16T06:00:00+00:00"))
    changed = licence_fields(1, expires="2030-01-01")
    result = load_run(con, write_run(tmp_path, "r2", "miit_licences", {"a": changed}))
    assert (result.new, result.changed, result.removed) == (0, 1, 1)
    version, removed = con.execute("SELECT version, removed_at FROM raw.records ORDER BY natural_key").fetchall()[0]
    assert version == 2 and removed is None
    b_removed = con.execute("SELECT removed_at::VARCHAR FROM raw.records WHERE natural_key = 'b'").fetchone()[0]
    assert b_removed.startswith("2026-11-23")
    assert con.execute("SELECT count(*) FROM raw.record_versions WHERE record_id IN "
                       "(SELECT record_id FROM raw.records WHERE natural_key='a')").fetchone()[0] == 2


def test_an_incomplete_crawl_never_reads_as_no_records(tmp_path: Path, warehouse: Path) -> None:
    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1), "b": licence_fields(2)}))
    result = load_run(con, write_run(tmp_path, "r2", "miit_licences", {}, complete=False))
    assert result.removed == 0
    assert counts(con)[2] == 0
    assert con.execute("SELECT complete FROM ops.source_runs WHERE run_id='r2'").fetchone()[0] is False


def test_a_record_that_comes_back_is_no_longer_removed(tmp_path: Path, warehouse: Path) -> None:
    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1)}))
    load_run(con, write_run(tmp_path, "r2", "miit_licences", {}))
    assert counts(con)[2] == 1
    load_run(con, write_run(tmp_path, "r3", "miit_licences", {"a": licence_fields(1)}))
    assert counts(con)[2] == 0


def test_a_source_without_manifest_fails_the_load_and_writes_nothing(tmp_path: Path, warehouse: Path) -> None:
    run = write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1)})
    (run / "miit_licences.manifest.json").unlink()
    con = connect(warehouse)
    with pytest.raises(LoadError, match="no manifest"):
        load_run(con, run)
    assert counts(con) == (0, 0, 0, 0)


def test_a_failure_inside_the_load_rolls_everything_back(tmp_path: Path, warehouse: Path) -> None:
    run = write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1)})
    write_run(tmp_path, "r1", "other_source", {"x": licence_fields(9)})
    (run / "other_source.parquet").write_bytes(b"not parquet")  # the second source fails mid-load
    con = connect(warehouse)
    with pytest.raises(Exception):  # noqa: B017 — DuckDB's own error; what matters is the rollback
        load_run(con, run)
    assert counts(con) == (0, 0, 0, 0)


def test_a_corrupt_warehouse_file_is_a_clear_error_and_stays_untouched(tmp_path: Path) -> None:
    path = tmp_path / "broken.duckdb"
    path.write_bytes(b"this is not a duckdb file" * 100)
    before = path.read_bytes()
    with pytest.raises(WarehouseError, match="not a valid DuckDB file"):
        connect(path)
    assert path.read_bytes() == before


def test_a_manifest_of_an_unknown_format_or_field_is_refused_by_name(tmp_path: Path) -> None:
    """The run manifest is one typed hand-off with a format version: a newer format or a field this
    version does not know is refused naming the file, and nothing is loaded."""
    run = write_run(tmp_path / "runs", "r1", "miit_licences", {"l1": licence_fields(1, "北京甲科技有限公司")})
    path = RunFolder(run).manifest("miit_licences")
    good = json.loads(path.read_text("utf-8"))
    assert good["format"] == MANIFEST_FORMAT
    con = connect(tmp_path / "w.duckdb")
    try:
        for bad, reason in (({**good, "format": MANIFEST_FORMAT + 1}, "manifest format"),
                            ({**good, "itemz": 3}, "unknown field(s) itemz")):
            path.write_text(json.dumps(bad), "utf-8")
            with pytest.raises(LoadError, match=rf"miit_licences\.manifest\.json: .*{reason}".replace("(", r"\(")
                               .replace(")", r"\)")):
                load_run(con, run)
            assert con.execute("SELECT count(*) FROM ops.runs").fetchone()[0] == 0
    finally:
        con.close()


def test_a_records_content_is_stored_once_and_every_version_still_reads_its_own(tmp_path: Path,
                                                                                warehouse: Path) -> None:
    """raw.records holds the current content; raw.record_versions only the content later versions replaced;
    raw.record_version_contents reads each version with its own."""
    con = connect(warehouse)
    contents = [licence_fields(1), licence_fields(1, expires="2030-01-01"), licence_fields(1, expires="2031-01-01")]
    for n, fields in enumerate(contents, start=1):
        load_run(con, write_run(tmp_path, f"r{n}", "miit_licences", {"a": fields, "b": licence_fields(2)},
                                finished_at=f"2026-11-{n + 15}T06:00:00+00:00"))
    stored = con.execute("SELECT v.version, v.fields_json IS NOT NULL FROM raw.record_versions v JOIN raw.records r "
                         "USING (record_id) WHERE r.natural_key = 'a' ORDER BY v.version").fetchall()
    assert stored == [(1, True), (2, True), (3, False)]  # the current version's content is raw.records's alone
    assert con.execute("SELECT count(*) FROM raw.record_versions WHERE fields_json IS NOT NULL").fetchone()[0] == 2
    history = con.execute("SELECT v.version, json_extract_string(v.fields_json, '$.business_types[0].expires_on'), "
                          "v.content_hash = r.content_hash "
                          "FROM raw.record_version_contents v JOIN raw.records r USING (record_id) "
                          "WHERE r.natural_key = 'a' ORDER BY v.version").fetchall()
    assert history == [(1, "2027-06-30", False), (2, "2030-01-01", False), (3, "2031-01-01", True)]


def test_the_migration_keeps_the_current_content_once(tmp_path: Path, warehouse: Path) -> None:
    """A warehouse from before migration 008 (every version's content in raw.record_versions) keeps only the
    replaced versions' there; the history reads the same."""
    from warehouse.db import MIGRATIONS

    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1)}))
    load_run(con, write_run(tmp_path, "r2", "miit_licences", {"a": licence_fields(1, expires="2030-01-01")}))
    history = con.execute("SELECT * FROM raw.record_version_contents ORDER BY version").fetchall()
    # as an earlier load left it: the current content in both tables
    con.execute("UPDATE raw.record_versions v SET raw_json = r.raw_json, fields_json = r.fields_json "
                "FROM raw.records r WHERE r.record_id = v.record_id AND r.version = v.version")
    con.execute((MIGRATIONS / "008_json_once.sql").read_text("utf-8"))
    assert con.execute("SELECT version FROM raw.record_versions WHERE fields_json IS NOT NULL").fetchall() == [(1,)]
    assert con.execute("SELECT * FROM raw.record_version_contents ORDER BY version").fetchall() == history


def _rewrite_records(run: Path, source: str, change) -> None:  # noqa: ANN001 (a row → rows function)
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = RunFolder(run).records(source)
    table = pq.read_table(path)
    pq.write_table(pa.Table.from_pylist([r for row in table.to_pylist() for r in change(row)], schema=table.schema),
                   path)


@pytest.mark.parametrize(("change", "reason"), [
    (lambda row: [row, row] if row["natural_key"] == "b" else [row], "appears 2 times"),
    (lambda row: [{**row, "source": "gsxt_records"} if row["natural_key"] == "b" else row],
     "is a 'gsxt_records' record in the 'miit_licences' file"),
])
def test_a_file_repeating_a_record_or_holding_another_sources_is_refused_by_name(
        tmp_path: Path, warehouse: Path, change, reason: str) -> None:  # noqa: ANN001
    """raw.records has no primary key (migration 009): the load keeps record_id unique, and says which record."""
    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1)}))
    before = counts(con)
    run = write_run(tmp_path, "r2", "miit_licences", {"a": licence_fields(1, expires="2030-01-01"),
                                                      "b": licence_fields(2)})
    _rewrite_records(run, "miit_licences", change)
    with pytest.raises(LoadError, match=f"record {record_id('miit_licences', 'b')} {reason}"):
        load_run(con, run)
    assert counts(con) == before  # nothing of the run was kept


def test_the_migration_drops_the_raw_keys_and_keeps_every_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Migration 009 rebuilds raw.records and raw.record_versions without their primary keys (an index a write
    loads whole: ~1 GiB at 10M records); the rows, their order and the history read the same."""
    import shutil

    import warehouse.db as db

    before_009 = tmp_path / "migrations"
    before_009.mkdir()
    for _, path in db.migrations():
        if path.name < "009":
            shutil.copy(path, before_009)
    now = connect(tmp_path / "now.duckdb")  # loaded by today's load, then copied into the older layout
    for n, expires in enumerate(("2027-06-30", "2030-01-01"), start=1):
        load_run(now, write_run(tmp_path, f"r{n}", "miit_licences", {"a": licence_fields(1, expires=expires),
                                                                     "b": licence_fields(2)}))
    now.close()
    monkeypatch.setattr(db, "MIGRATIONS", before_009)
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute(f"ATTACH '{tmp_path / 'now.duckdb'}' AS now (READ_ONLY)")
    con.execute("INSERT INTO raw.records BY NAME SELECT *, first_run_id AS last_run_id FROM now.raw.records")
    con.execute("INSERT INTO raw.record_versions BY NAME SELECT * FROM now.raw.record_versions")
    con.execute("DETACH now")
    tables = ("raw.records", "raw.record_versions", "raw.record_version_contents")
    rows = {t: con.execute(f"SELECT * {'EXCLUDE (last_run_id)' if t == 'raw.records' else ''} FROM {t}").fetchall()
            for t in tables}  # without the column 010 drops
    keys = "SELECT table_name FROM duckdb_constraints() WHERE schema_name = 'raw' AND constraint_type = 'PRIMARY KEY'"
    assert sorted(t for (t,) in con.execute(keys).fetchall()) == ["record_versions", "records"]
    con.close()
    monkeypatch.undo()
    con = connect(path)  # applies 009
    assert con.execute(keys).fetchall() == []
    assert {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in tables} == rows
    nullable = dict(con.execute("SELECT table_name || '.' || column_name, is_nullable FROM information_schema.columns "
                                "WHERE table_schema = 'raw' AND column_name IN ('record_id', 'raw_json') "
                                "AND table_name IN ('records', 'record_versions')").fetchall())
    assert nullable == {"records.record_id": "NO", "records.raw_json": "NO", "record_versions.record_id": "NO",
                        "record_versions.raw_json": "YES"}
    con.close()
