"""The demo's alerts, end to end (issue 16): `creditwatch run --demo` (week 0), `--replica-week 1`, and
week 1 again, through the weekly flow (alerts after the export) to the local receiver the demo starts.

Week 0 is the baseline; week 1 sends exactly the world's changes about licensed operators, each once;
running week 1 again sends nothing."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows import repair
from pipelines.items import record_id
from replica.demo import compliance_facts_csv
from replica.world import World
from spiders.miit_licences.replica import without_report
from transforms.repair.deadlines import china_day

CHANGE_KINDS = ("record_new", "listed", "record_removed", "record_changed")
REPO = Path(__file__).resolve().parents[1]


def demo(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "--warehouse", str(tmp_path / "data" / "cw.duckdb"), "run", "--demo",
         "--no-faults", "--export-dir", str(tmp_path / "exports"), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "CREDITWATCH_"))},
             "COLUMNS": "300"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def world_changes(world: World) -> tuple[set[tuple[str, str, str]], list[str]]:
    """(kind, record id, operator) for what appeared or disappeared between week 0 and week 1, by the world's
    ground truth; and the operators whose abnormal-operations listing now shows its removal (changed)."""
    truth = {p.decision_no: p.subject.operator_uscc for p in world.penalties}
    truth |= {c.case_code: c.subject.operator_uscc for c in world.court_dishonest}
    truth |= {e.key: e.subject.operator_uscc for n in world.telecom_notices for e in n.entries}
    truth |= {e.document_no: e.subject.operator_uscc for e in world.serious_dishonest}
    truth |= {c.key: c.subject.operator_uscc for c in world.tax_major_violations}
    # Sources whose new entries are list entries (a dishonest or telecom list): `listed`, not `record_new`.
    listing_sources = {"miit_telecom_lists", "creditchina_serious_dishonest", "creditchina_tax_violations"}
    before, after = world.ground_truth(0), world.ground_truth(1)
    expected = set()
    for source in before:
        for key in after[source]["records"] - before[source]["records"]:
            kind = "listed" if source in listing_sources else "record_new"
            expected.add((kind, record_id(source, key), truth[key]))
        for key in before[source]["records"] - after[source]["records"]:
            expected.add(("record_removed", record_id(source, key), truth[key]))
    changed = sorted(a.subject.operator_uscc for a in world.abnormal_listings if a.removed_in_epoch == 1)
    # An operator whose only licence never filed an annual report has no USCC in the licence system: the
    # warehouse keys it by its name (core.licences), and so does every event about it.
    unreported = without_report(world, 1)
    by_name = {c.uscc: "N:" + hashlib.md5(c.name.encode()).hexdigest()[:16] for c in world.companies
               if c.licences and all(lic.lic_id in unreported for lic in c.licences)}
    expected = {(kind, rid, by_name.get(op, op)) for kind, rid, op in expected}
    return {e for e in expected if e[2]}, sorted(by_name.get(op, op) for op in changed)


def demo_repair_record(world: World, folder: Path) -> str:
    """The record `make demo-repair` repairs: a 信用中国 penalty the demo records paid in week 0 and the
    replica no longer serves in week 1 (the first such, by the world's own order)."""
    with compliance_facts_csv(world, folder / "facts.csv").open(encoding="utf-8") as handle:
        paid = {row["reference"] for row in csv.DictReader(handle)}
    return next(p.decision_no for p in world.penalties
                if p.platform == "creditchina" and p.epoch_removed == 1 and p.decision_no in paid)


@pytest.mark.timeout(1800)
def test_demo_week_zero_then_one_sends_the_changes_once_and_again_nothing(tmp_path: Path) -> None:
    first = demo(tmp_path)
    assert "Alerts → demo: 0 events sent in 0 messages;" in first and "recorded as baseline" in first

    # Issue 17 on the replica: a repair case for that record, opened, submitted and accepted in week 0.
    record = demo_repair_record(World(), tmp_path)
    assert f"DEMO_RECORD := {record}" in (REPO / "Makefile").read_text("utf-8")  # what `make demo-repair` opens
    warehouse = tmp_path / "data" / "cw.duckdb"
    case_id = repair.open_case(warehouse, record, tmp_path / "exports" / "repair", actor="t").case.case_id
    repair.submit(warehouse, case_id, date.today(), "creditchina", actor="t")
    repair.outcome(warehouse, case_id, "accepted", date.today(), actor="t")

    second = demo(tmp_path, "--replica-week", "1")
    # Week 1's complete crawl no longer shows it: the run closed the case, on that crawl's day (in China).
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(week1_crawl,)] = con.execute("SELECT max(crawled_at) FROM ops.runs").fetchall()
    assert [(r["case_id"], r["state"], r["verified_on"]) for r in repair.list_cases(warehouse)] == [
        (case_id, "removed_verified", china_day(week1_crawl))]
    assert "Repair cases: removed_verified 1; overdue 0" in second
    assert "── received by the demo channel" in second and "creditwatch 信用提醒｜全部持证经营者｜" in second
    assert "【紧急】列入名单" in second and "【提示】记录撤下" in second

    con = duckdb.connect(str(tmp_path / "data" / "cw.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT kind, payload ->> 'record_id', payload ->> 'operator_id', status, attempts, "
                           "event_key FROM ops.alert_outbox WHERE channel = 'demo'").fetchall()
        export_written = con.execute("SELECT count(*) FROM ops.audit WHERE action = 'export'").fetchone()[0]
    finally:
        con.close()
    sent = [r for r in rows if r[3] == "sent"]
    assert sent and all(r[4] == 1 for r in sent)  # each delivered on its first attempt, once
    expected, changed = world_changes(World())
    assert {(k, rid, op) for k, rid, op, *_ in sent if k != "record_changed" and k in CHANGE_KINDS} == expected
    assert sorted(op for k, _, op, *_ in sent if k == "record_changed") == changed
    assert {kind for kind, _, _ in expected} == {"record_new", "listed", "record_removed"} and changed
    for key in (r[5] for r in sent):
        assert second.count(f"事件编号：{key}") == 1  # shown once, in the digest the receiver got
    assert export_written >= 2  # the weekly flow exported before it sent

    third = demo(tmp_path, "--replica-week", "1")
    assert "Alerts → demo: 0 events sent in 0 messages" in third and "received by the demo channel" not in third


DAILY = """
import json, sys
from pathlib import Path
from flows import prefect_env
prefect_env.configure(Path("data"))
from flows import stages
from flows.monitoring import monitoring_run
from flows.alerts_receiver import Receiver
with Receiver() as receiver:
    Path("alerts.yaml").write_text('channels:\\n  ops: "json://127.0.0.1:%d/ops"\\noperations:\\n  channels: [ops]\\n'
                                   % receiver.port, "utf-8")
    runs = []
    def daily():  # as the daily deployment runs it: no export; the site unreachable, so incomplete
        return monitoring_run(sources=["miit_licences"], warehouse="data/w.duckdb", replica_url="http://127.0.0.1:9",
                                 solver="replica", export_root="exports", export=False)
    for _ in range(2):
        runs.append(daily()["alerts"])
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    stages.load_and_build = broken
    try:
        daily()
    except Exception as error:
        runs.append(f"raised {error}")
    print("RESULT " + json.dumps({"runs": runs, "received": [m.body for m in receiver.received]}, ensure_ascii=False))
"""


def test_the_daily_run_tells_the_operator_of_a_source_incomplete_twice_and_of_a_failed_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "CREDITWATCH_"))}
    done = subprocess.run([sys.executable, "-c", DAILY], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    first, second, third = result["runs"]
    assert first["config"] == "alerts.yaml"  # found in the working directory, as the deployments find it
    assert first["channels"]["ops"]["sent"] == 0 and second["channels"]["ops"]["sent"] == 1
    assert third == "raised disk full"  # the run still fails, after telling the operator
    incomplete, failed = result["received"]
    assert incomplete["title"].startswith("creditwatch 信用提醒｜运行监控｜") and incomplete["type"] == "warning"
    assert "【重要】数据源连续未抓全\n对象：miit_licences\n说明：连续 2 次运行未抓取完整" in incomplete["message"]
    assert failed["type"] == "failure" and "【紧急】运行失败" in failed["message"]
    assert "load-and-transform：disk full" in failed["message"]
    assert not (tmp_path / "exports").exists()  # the daily run writes no export
