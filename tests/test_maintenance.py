"""Warehouse maintenance: the doctor on healthy and broken warehouses, the PIPL purge (dry run = real run),
the audit trail, backup → change → restore, and restores that must refuse and change nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.stages import load_and_build as publish
from flows.stages import purge
from pipelines.items import record_id
from pipelines.run_folder import QUARANTINE_SCHEMA, RunFolder
from tests.helpers import licence_fields, write_run
from warehouse.db import WarehouseError, connect
from warehouse.load import load_run
from warehouse.maintenance import PERSONAL_RECORD_SQL, audit, backup, doctor, restore
from warehouse.snapshot import snapshot_path

AS_OF = date(2025, 12, 1)


def dishonest(subject: str, *, uscc: str | None = None, id_number: str | None = None) -> dict:
    return {"case_code": f"(2024)京01执{abs(hash(subject)) % 1000}号", "subject_name": subject,
            "subject_uscc": uscc, "subject_id_number": id_number, "court": "北京市第一中级人民法院"}


CASES = {
    "p_old": dishonest("李四", id_number="1101**********1234"),            # person, display ended long ago
    "p_gt": dishonest("王五烧烤店", uscc="92110108MA01ABCD1X"),              # 个体工商户
    "p_nocode": dishonest("赵六"),                                           # court lists a person, no code
    "firm": dishonest("测试1科技有限公司", uscc="91110000802100433B"),       # a company: never purged
    "p_recent": dishonest("钱七", id_number="3701**********5678"),           # display ended recently
    "p_shown": dishonest("孙八", id_number="4401**********9012"),            # still displayed
}


def court_run(runs: Path, run_id: str, keys: list[str], finished: str) -> Path:
    return write_run(runs, run_id, "court_dishonest", {k: CASES[k] for k in keys}, finished_at=finished,
                     record_type="court_dishonest")


def add_quarantine(run: Path, source: str, keys: list[str]) -> None:
    rows = [{"record_id": record_id(source, k), "source": source, "record_type": "court_dishonest",
             "natural_key": k, "url": f"http://replica/{k}", "fetched_at": "2025-01-01", "field": "court",
             "raw_value": "?", "reason": "test: unreadable court", "raw_json": json.dumps({"key": k})} for k in keys]
    pq.write_table(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), RunFolder(run).quarantine(source))


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """r1 shows everything; r2 (complete) drops four cases; r3 (complete) drops p_recent."""
    warehouse = tmp_path / "data" / "creditwatch.duckdb"
    runs = warehouse.parent / "runs"
    r1 = court_run(runs, "r1", list(CASES), "2025-01-01T06:00:00+00:00")
    write_run(runs, "r1", "miit_licences", {"L1": licence_fields(1)}, finished_at="2025-01-01T06:00:00+00:00")
    add_quarantine(r1, "court_dishonest", ["p_old", "firm"])
    publish(warehouse, r1, as_of=AS_OF)
    publish(warehouse, court_run(runs, "r2", ["p_recent", "p_shown"], "2025-03-01T06:00:00+00:00"), as_of=AS_OF)
    publish(warehouse, court_run(runs, "r3", ["p_shown"], "2025-11-01T06:00:00+00:00"), as_of=AS_OF)
    return warehouse


def table_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of the raw and ops tables (the audit trail aside), sorted, for whole-state comparisons."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall()))
                for t in ("raw.records", "raw.record_versions", "raw.quarantine", "ops.runs", "ops.source_runs")}
    finally:
        con.close()


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def natural_keys(path: Path) -> set[str]:
    return {k for (k,) in query(path, "SELECT natural_key FROM raw.records")}


# --------------------------------------------------------------------------------------------- doctor


def test_a_healthy_warehouse_gets_only_ok_findings(history: Path) -> None:
    findings = doctor(history)
    assert findings and all(f.level == "ok" for f in findings), [f for f in findings if f.level != "ok"]
    assert {"schema", "snapshot", "orphan links", "unloaded runs", "missing run folders", "incomplete crawls",
            "quarantine growth", "duplicates raw.records"} <= {f.check for f in findings}


def test_the_doctor_finds_each_deliberate_break_and_says_what_to_do(history: Path) -> None:
    runs = history.parent / "runs"
    write_run(runs, "r9-never-loaded", "miit_licences", {"L1": licence_fields(1)})
    shutil.rmtree(runs / "r2")  # a loaded run's evidence lost
    for i in range(4):  # steady quarantine, then a jump
        add_quarantine(court_run(runs, f"r4{i}", ["p_shown"], f"2025-11-0{i + 2}T06:00:00+00:00"),
                       "court_dishonest", ["p_shown"])
    burst = court_run(runs, "r45", ["p_shown"], "2025-11-08T06:00:00+00:00")
    add_quarantine(burst, "court_dishonest", [f"q{i}" for i in range(12)])
    con = connect(history)
    for name in ("r40", "r41", "r42", "r43", "r45"):
        load_run(con, runs / name)
    load_run(con, write_run(runs, "r5", "miit_licences", {}, complete=False))  # last licence crawl incomplete
    # Orphan link, duplicates (a table rebuilt without its key) and an old schema version.
    con.execute("INSERT INTO core.record_links (record_id, operator_id, status) VALUES ('gone', 'nobody', 'auto')")
    con.execute("CREATE TABLE raw.records_copy AS SELECT * FROM raw.records UNION ALL "
                "SELECT * FROM raw.records WHERE natural_key = 'firm'")
    con.execute("DROP TABLE raw.records")
    con.execute("ALTER TABLE raw.records_copy RENAME TO records")
    con.execute("DELETE FROM ops.schema_version WHERE version = (SELECT max(version) FROM ops.schema_version)")
    con.close()  # not republished: the snapshot still shows r3

    findings = {f.check: f for f in doctor(history)}
    expected = {"schema": "error", "duplicates raw.records": "error", "orphan links": "error", "snapshot": "warn",
                "unloaded runs": "warn", "missing run folders": "warn", "incomplete crawls": "warn",
                "quarantine growth": "warn"}
    assert {check: findings[check].level for check in expected} == expected
    assert findings["duplicates raw.record_versions"].level == "ok"
    assert "r9-never-loaded" in findings["unloaded runs"].message
    assert "r2" in findings["missing run folders"].message
    assert "miit_licences" in findings["incomplete crawls"].message
    assert "court_dishonest: 12 rows" in findings["quarantine growth"].message
    assert "r3" in findings["snapshot"].message and "r5" in findings["snapshot"].message
    assert all(f.fix for f in findings.values() if f.level != "ok")


def test_the_doctor_reports_a_broken_file_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "data" / "creditwatch.duckdb"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 500)
    levels = {f.check: f.level for f in doctor(path)}
    assert levels["warehouse"] == "error"


# ---------------------------------------------------------------------------------------------- purge


def test_the_personal_record_rule_matches_individuals_only(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE raw_records (key VARCHAR, record_type VARCHAR, fields_json JSON)")
    rows = [(k, "court_dishonest", json.dumps(v)) for k, v in CASES.items()] + [
        ("licence", "licence", json.dumps(licence_fields(1))),
        ("licence_gt", "licence", json.dumps({**licence_fields(2), "uscc": "92440300MA5F000000"})),
        ("penalty_firm", "penalty", json.dumps({"subject_uscc": "91110000802100433B", "subject_id_number": ""}))]
    con.executemany("INSERT INTO raw_records VALUES (?, ?, ?)", rows)
    matched = {k for (k,) in con.execute(f"SELECT key FROM raw_records WHERE {PERSONAL_RECORD_SQL}").fetchall()}
    assert matched == {"p_old", "p_gt", "p_nocode", "p_recent", "p_shown", "licence_gt"}


def test_a_dry_run_changes_nothing_and_lists_exactly_what_the_real_purge_deletes(history: Path) -> None:
    runs = history.parent / "runs"
    before = table_rows(history)
    dry = purge(history, as_of=AS_OF, retention_days=180, dry_run=True)
    assert table_rows(history) == before
    assert sorted(p.name for p in runs.iterdir()) == ["r1", "r2", "r3"]
    expected_ids = sorted(record_id("court_dishonest", k) for k in ("p_old", "p_gt", "p_nocode"))
    assert dry.record_ids == expected_ids
    assert (dry.versions, dry.quarantine_rows, dry.run_folders) == (3, 1, ["r1", "r2"])
    assert dry.run_folder_bytes > 0 and dry.cutoff == date(2025, 6, 4)

    real = purge(history, as_of=AS_OF, retention_days=180, dry_run=False)
    assert {**vars(real), "dry_run": True} == vars(dry)
    assert natural_keys(history) == {"firm", "p_recent", "p_shown", "L1"}
    gone = "('" + "','".join(expected_ids) + "')"
    assert query(history, f"SELECT count(*) FROM raw.record_versions WHERE record_id IN {gone}") == [(0,)]
    assert query(history, "SELECT natural_key FROM raw.quarantine") == [("firm",)]
    assert sorted(p.name for p in runs.iterdir()) == ["r3"]
    # The models were rebuilt and the snapshot republished: readers no longer see the names either.
    names = {n for (n,) in query(snapshot_path(history), "SELECT subject_name FROM core.subject_records")}
    assert "李四" not in names and "王五烧烤店" not in names and "测试1科技有限公司" in names
    [(action, details)] = query(history, "SELECT action, details FROM ops.audit")
    assert action == "purge" and json.loads(details)["records"] == 3
    assert json.loads(details)["run_folders"] == ["r1", "r2"]
    # Purged folders are deliberate: the doctor does not report them missing.
    assert {f.check: f.level for f in doctor(history)}["missing run folders"] == "ok"
    again = purge(history, as_of=AS_OF, retention_days=180, dry_run=True)
    assert (again.record_ids, again.run_folders) == ([], [])


def test_a_longer_retention_keeps_everything(history: Path) -> None:
    report = purge(history, as_of=AS_OF, retention_days=400, dry_run=False)
    assert (report.record_ids, report.run_folders) == ([], [])
    assert len(natural_keys(history)) == len(CASES) + 1


def test_purge_and_audit_refuse_bad_arguments(history: Path) -> None:
    with pytest.raises(ValueError, match="retention_days must be 0 or more, got -1"):
        purge(history, as_of=AS_OF, retention_days=-1, dry_run=True)
    con = connect(history)
    try:
        with pytest.raises(ValueError, match="unknown audit action 'delete'"):
            audit(con, "delete", {})
        audit(con, "export", {"files": ["a.csv"]}, actor="analyst1")
        assert con.execute('SELECT action, actor, details ->> \'files\' FROM ops.audit').fetchall() == [
            ("export", "analyst1", '["a.csv"]')]
    finally:
        con.close()


# ------------------------------------------------------------------------------------- backup, restore


def test_backup_then_change_then_restore_gives_the_backed_up_state(history: Path, tmp_path: Path) -> None:
    saved = backup(history, tmp_path)
    assert saved.parent == tmp_path and saved.suffix == ".duckdb"
    backed_up = table_rows(history)
    publish(history, court_run(history.parent / "runs", "r4", [], "2025-11-20T06:00:00+00:00"), as_of=AS_OF)
    changed = table_rows(history)
    assert changed != backed_up

    kept = restore(saved, history)
    assert table_rows(history) == backed_up
    assert kept is not None and kept.name.startswith(history.name + ".before-restore-")
    assert table_rows(kept) == changed
    assert query(snapshot_path(history), "SELECT max(run_id) FROM ops.runs") == [("r3",)]
    assert [a for (a,) in query(history, 'SELECT action FROM ops.audit ORDER BY "at"')] == ["backup", "restore"]
    with pytest.raises(WarehouseError, match="never overwritten"):
        backup(history, saved)


@pytest.mark.parametrize("content", [b"PK\x03\x04 not a database" * 200, None])
def test_restore_refuses_a_file_that_is_not_a_warehouse_and_changes_nothing(
        history: Path, tmp_path: Path, content: bytes | None) -> None:
    bad = tmp_path / "bad.duckdb"
    if content is None:  # a DuckDB file, but not ours
        duckdb.connect(str(bad)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    else:
        bad.write_bytes(content)
    before, snapshot = history.read_bytes(), snapshot_path(history).read_bytes()
    with pytest.raises(WarehouseError, match="nothing was changed"):
        restore(bad, history)
    assert history.read_bytes() == before and snapshot_path(history).read_bytes() == snapshot
    assert not list(history.parent.glob("*.before-restore*"))


def test_restore_repairs_a_corrupt_warehouse(history: Path, tmp_path: Path) -> None:
    saved = backup(history, tmp_path / "b.duckdb")
    expected = table_rows(history)
    history.write_bytes(b"\0garbage" * 1000)
    kept = restore(saved, history)
    assert table_rows(history) == expected
    assert kept is not None and kept.read_bytes() == b"\0garbage" * 1000


def test_backup_and_restore_refuse_while_a_run_holds_the_warehouse(history: Path, tmp_path: Path) -> None:
    saved = backup(history, tmp_path / "b.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(history)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        before = history.read_bytes()
        with pytest.raises(WarehouseError, match="in use by another process"):
            backup(history, tmp_path / "c.duckdb")
        with pytest.raises(WarehouseError, match="in use by another process"):
            restore(saved, history)
        assert history.read_bytes() == before and not (tmp_path / "c.duckdb").exists()
    finally:
        holder.kill()
        holder.wait()
