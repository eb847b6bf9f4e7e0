"""Crash safety (issue 6): SIGKILL a publishing run at each pause point and a crawl mid-way; reruns are
idempotent (hypothesis); a reader of the snapshot during a publish never fails nor sees a mix."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.stages import load_and_build as publish
from pipelines.run_folder import read_manifest
from replica.server import Replica
from tests.helpers import licence_fields, write_run
from warehouse.db import connect, migrate
from warehouse.load import LoadError, load_run
from warehouse.maintenance import doctor
from warehouse.snapshot import snapshot_path

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 12, 1)
VOLATILE = {"loaded_at", "applied_at", "at"}  # wall-clock columns: differ between any two runs
PUBLISH = (
    "import sys; from datetime import date; from pathlib import Path; from flows.stages import load_and_build; "
    "load_and_build(sys.argv[1], Path(sys.argv[2]), as_of=date.fromisoformat(sys.argv[3])); print('DONE')"
)


def court(name: str, uscc: str | None) -> dict[str, Any]:
    return {"case_code": f"(2026)京01执{len(name)}号", "subject_name": name, "subject_uscc": uscc,
            "subject_id_number": None, "court": "北京市第一中级人民法院"}


def write_runs(runs: Path) -> tuple[Path, Path]:
    """r1, and r2 on top of it: a change, a removal and a new record in each of two sources."""
    r1 = write_run(runs, "r1", "miit_licences", {f"L{i}": licence_fields(i) for i in range(1, 5)},
                   finished_at="2026-11-16T06:00:00+00:00")
    write_run(runs, "r1", "court_dishonest", {"c1": court("测试1科技有限公司", None), "c2": court("甲公司", None)},
              record_type="court_dishonest", finished_at="2026-11-16T06:00:00+00:00")
    licences = {"L1": licence_fields(1, expires="2030-01-01"), "L2": licence_fields(2), "L3": licence_fields(3),
                "L5": licence_fields(5)}
    r2 = write_run(runs, "r2", "miit_licences", licences)
    cases = {"c1": court("测试1科技有限公司", None), "c3": court("测试2科技有限公司", None)}
    write_run(runs, "r2", "court_dishonest", cases, record_type="court_dishonest")
    return r1, r2


def state(path: Path) -> dict[str, list[str]]:
    """Every base table (raw, ops, core, marts …), every row, wall-clock columns aside, sorted."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                         "WHERE NOT temporary ORDER BY ALL").fetchall():
            cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                                              "AND table_name = ? ORDER BY column_index", [schema, table]).fetchall()
                    if c not in VOLATILE]
            select_list = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{table}"] = sorted(map(repr, con.execute(f"SELECT {select_list} FROM {schema}.{table}")
                                                  .fetchall()))
        return out
    finally:
        con.close()


def last_run(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT max(run_id) FROM ops.runs").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run folders, a warehouse after r1 (the template each crash starts from) and the unbroken r1 → r2."""
    root = tmp_path_factory.mktemp("crash")
    r1, r2 = write_runs(root / "runs")
    after_r1 = root / "after_r1" / "creditwatch.duckdb"
    publish(after_r1, r1, as_of=AS_OF)
    reference = root / "reference" / "creditwatch.duckdb"
    publish(reference, r1, as_of=AS_OF)
    publish(reference, r2, as_of=AS_OF)
    return {"root": root, "r1": r1, "r2": r2, "after_r1": after_r1, "state_r1": state(after_r1),
            "state_ref": state(reference)}


def wait_for_pause(proc: subprocess.Popen, deadline: float = 90) -> str:
    """Read the child's stderr until it announces its pause point; fail with its stderr if it ends first."""
    seen, end = [], time.monotonic() + deadline
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stderr], [], [], end - time.monotonic())
        if not ready:
            break
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("PAUSED AT"):
            return line.strip()
    proc.kill()
    raise AssertionError("the run never reached its pause point:\n" + "".join(seen)[-3000:])


@pytest.mark.parametrize("point", ["load.after_source", "build.after_model", "apply_run.before_commit",
                                   "publish_snapshot.before_replace"])
def test_sigkill_at_each_point_keeps_the_previous_state_and_a_rerun_heals(
        base: dict[str, Any], tmp_path: Path, point: str) -> None:
    warehouse = tmp_path / "data" / "creditwatch.duckdb"
    shutil.copytree(base["after_r1"].parent, warehouse.parent)
    proc = subprocess.Popen([sys.executable, "-c", PUBLISH, str(warehouse), str(base["r2"]), AS_OF.isoformat()],
                            cwd=REPO, env={**os.environ, "CREDITWATCH_PAUSE_AT": point},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for_pause(proc) == f"PAUSED AT {point}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    committed = point == "publish_snapshot.before_replace"  # killed after the commit, before the swap
    assert state(warehouse) == (base["state_ref"] if committed else base["state_r1"])
    connect(warehouse).close()  # opens read-write: the WAL replays or is discarded cleanly
    assert last_run(snapshot_path(warehouse)) == "r1"  # readers still see run 1, whole
    stale = {f.check: f for f in doctor(warehouse)}["snapshot"]
    assert stale.level == ("warn" if committed else "ok")

    rerun = publish(warehouse, base["r2"], as_of=AS_OF)
    assert rerun["load"]["loaded"] is not committed  # a committed run is not loaded twice
    assert state(warehouse) == base["state_ref"]
    assert last_run(snapshot_path(warehouse)) == "r2"
    assert state(snapshot_path(warehouse)) == base["state_ref"]


def child_pids(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def start_slow_crawl(run_dir: Path, replica: Replica) -> subprocess.Popen:
    script = ("import sys; from pathlib import Path; from flows.stages import crawl_source, CrawlError\n"
              "try:\n"
              "    crawl_source('miit_licences', Path(sys.argv[1]), replica_url=sys.argv[2], solver='replica',\n"
              "                 settings={'DOWNLOAD_DELAY': 0.5, 'CONCURRENT_REQUESTS': 1})\n"
              "except CrawlError as error:\n"
              "    print('CRAWL ERROR', error)\n")
    return subprocess.Popen([sys.executable, "-c", script, str(run_dir), replica.base_url], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_first_page(run_dir: Path, proc: subprocess.Popen, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if any(p.suffix == ".gz" for p in (run_dir / "evidence").rglob("*")) if (run_dir / "evidence").exists() \
                else False:
            return
        if proc.poll() is not None:
            raise AssertionError(f"the crawl ended before its first page: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no page fetched in time")


@pytest.mark.parametrize("victim", ["whole crawl", "spider only"])
def test_a_crawl_killed_mid_way_never_reads_as_no_records(
        base: dict[str, Any], tmp_path: Path, quiet_replica: Replica, victim: str) -> None:
    warehouse = tmp_path / "data" / "creditwatch.duckdb"
    shutil.copytree(base["after_r1"].parent, warehouse.parent)
    run_dir = tmp_path / "runs" / "r2-crashed"
    proc = start_slow_crawl(run_dir, quiet_replica)
    try:
        wait_for_first_page(run_dir, proc)
        if victim == "whole crawl":
            os.killpg(proc.pid, signal.SIGKILL)  # the crawl's own process group: the CLI and its spider
        else:
            [spider] = child_pids(proc.pid)
            os.kill(spider, signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not (run_dir / "miit_licences.parquet").exists() or victim == "whole crawl"

    con = connect(warehouse)
    try:
        if victim == "whole crawl":  # no manifest was written: the load refuses and changes nothing
            with pytest.raises(LoadError, match="no source manifests|no manifest"):
                load_run(con, run_dir)
        else:  # crawl_source saw its spider die and wrote an incomplete manifest saying so
            assert "CRAWL ERROR miit_licences: crawl process exited -9" in out
            manifest = read_manifest(run_dir / "miit_licences.manifest.json")
            assert manifest.complete is False
            result = load_run(con, run_dir)
            assert result.sources == {"miit_licences": False} and result.removed == 0
    finally:
        con.close()
    after = state(warehouse)
    # Whatever happened, no licence reads as removed and none of run 1's records is lost.
    assert after["raw.records"] == base["state_r1"]["raw.records"]


# ---------------------------------------------------------------------------------------------- reader


# mode "held" keeps one connection for the whole publish; mode "fresh" opens a new one per query (a
# process with an open connection gets that same database back from DuckDB's instance cache, so the
# two cannot share a process).
READER = """
import json, sys, duckdb
from pathlib import Path
snapshot, stop, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
QUERY = ("SELECT (SELECT max(run_id) FROM ops.runs), (SELECT count(*) FROM raw.records), "
         "(SELECT count(*) FROM raw.record_versions), (SELECT count(*) FROM core.licences)")
held = duckdb.connect(snapshot, read_only=True) if mode == "held" else None
seen = set()
first = True
while first or not stop.exists():
    con = held or duckdb.connect(snapshot, read_only=True)
    seen.add(con.execute(QUERY).fetchone())
    if con is not held:
        con.close()
    if first:  # one answer before the publish starts, so the old state is surely seen
        print("READY", flush=True)
        first = False
print("SEEN " + json.dumps(sorted(seen)), flush=True)
"""


def snapshot_numbers(path: Path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT (SELECT max(run_id) FROM ops.runs), (SELECT count(*) FROM raw.records), "
                           "(SELECT count(*) FROM raw.record_versions), (SELECT count(*) FROM core.licences)"
                           ).fetchone()
    finally:
        con.close()


def test_a_reader_of_the_snapshot_during_a_publish_sees_old_or_new_never_a_mix(
        base: dict[str, Any], tmp_path: Path) -> None:
    warehouse = tmp_path / "data" / "creditwatch.duckdb"
    shutil.copytree(base["after_r1"].parent, warehouse.parent)
    old = snapshot_numbers(snapshot_path(warehouse))
    stop = tmp_path / "stop"
    readers = {mode: subprocess.Popen([sys.executable, "-c", READER, str(snapshot_path(warehouse)), str(stop), mode],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for mode in ("held", "fresh")}
    seen: dict[str, set[tuple]] = {}
    try:
        for reader in readers.values():
            assert reader.stdout.readline().strip() == "READY"
        result = publish(warehouse, base["r2"], as_of=AS_OF)
        time.sleep(0.5)  # let the readers query the new snapshot too
        stop.touch()
        for mode, reader in readers.items():
            out, err = reader.communicate(timeout=60)
            assert reader.returncode == 0, err[-2000:]
            seen[mode] = {tuple(row) for row in json.loads(out.split("SEEN ", 1)[1])}
    finally:
        for reader in readers.values():
            if reader.poll() is None:
                reader.kill()
                reader.wait()
    assert result["load"]["loaded"]
    new = snapshot_numbers(snapshot_path(warehouse))
    assert new != old and new[0] == "r2"
    assert seen["held"] == {old}  # an open reader keeps its whole state and keeps working
    assert seen["fresh"] == {old, new}  # new connections see the old state, then the new, never a mix


# ------------------------------------------------------------------------------------------ property

KEYS = ["a", "b", "c", "d"]
run_strategy = st.lists(
    st.fixed_dictionaries({
        "records": st.dictionaries(st.sampled_from(KEYS), st.integers(0, 2), max_size=len(KEYS)),
        "complete": st.booleans(),
    }),
    min_size=1, max_size=5,
)


def raw_state(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("raw.records", "raw.record_versions", "raw.quarantine", "ops.source_runs")} | {
        "ops.runs": con.execute("SELECT * EXCLUDE (loaded_at) FROM ops.runs ORDER BY run_id").fetchall()}


def expected_history(runs: list[dict[str, Any]]) -> dict[str, tuple[list[tuple[int, str]], bool]]:
    """A plain model of history: per key, the (version, run) list of distinct consecutive contents, and
    whether the record reads as removed (a later complete run did not show it)."""
    current: dict[str, int] = {}
    versions: dict[str, list[tuple[int, str]]] = {}
    removed: dict[str, bool] = {}
    for i, run in enumerate(runs):
        run_id = f"r{i:02d}"
        for key, content in run["records"].items():
            if current.get(key) != content:
                versions.setdefault(key, []).append((len(versions.get(key, [])) + 1, run_id))
            current[key] = content
            removed[key] = False
        if run["complete"]:
            for key in current:
                removed[key] = removed[key] or key not in run["records"]
    return {key: (versions[key], removed[key]) for key in current}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_strategy)
def test_loading_twice_equals_loading_once_and_history_follows_run_order(runs: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folders = [write_run(Path(tmp), f"r{i:02d}", "miit_licences",
                             {k: licence_fields(n, name=f"公司{k}") for k, n in run["records"].items()},
                             complete=run["complete"], finished_at=f"2026-01-{i + 1:02d}T06:00:00+00:00")
                   for i, run in enumerate(runs)]
        once, twice = duckdb.connect(), duckdb.connect()
        for con in (once, twice):
            migrate(con)
        for folder in folders:
            load_run(once, folder)
            assert load_run(twice, folder).loaded
            assert not load_run(twice, folder).loaded
        assert raw_state(twice) == raw_state(once)

        got = {}
        for key, version, run_id in once.execute("SELECT r.natural_key, v.version, v.run_id FROM raw.record_versions v "
                                                 "JOIN raw.records r USING (record_id) ORDER BY 1, 2").fetchall():
            got.setdefault(key, ([], None))[0].append((version, run_id))
        for key, removed in once.execute("SELECT natural_key, removed_at IS NOT NULL FROM raw.records").fetchall():
            got[key] = (got[key][0], removed)
        assert got == expected_history(runs)
        seen = once.execute("SELECT bool_and(seen_at >= prev) FROM (SELECT seen_at, lag(seen_at, 1, seen_at) OVER "
                            "(PARTITION BY record_id ORDER BY version) AS prev FROM raw.record_versions)").fetchone()
        assert seen[0] in (True, None)
