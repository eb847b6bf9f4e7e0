"""Time each pipeline stage at registry scale and write bench/results.md (issue 8).

    .venv/bin/python -m bench.run                              # small scale, 3 runs each: a few minutes
    .venv/bin/python -m bench.run --scale 1m --repeat 3        # 1,000,000 records, 60,000 operators
    .venv/bin/python -m bench.run --scale 10m --repeat 1       # 10,000,000 records (opt-in, ~20 min)
    .venv/bin/python -m bench.run --stages load transform      # only some stages

Every measured run happens in a fresh subprocess (`python -m bench.run --worker STAGE …`), so the peak
RSS of each stage is its own: the parent reads it from os.wait4's rusage (which includes the worker's own
children, e.g. the crawl's spider processes). The worker times only the stage's work (opening, copying
a prepared warehouse and the like happen before the clock starts) and prints its figures as JSON.

Stages (see bench/README.md): generate, crawl, load, transform, link, full (load + build in one
transaction, as the weekly run), incremental (next week's run on top of the full one), export, publish,
removal (`creditwatch removal` on a synthetic CASES.csv, streamed in batches), ingest (a synthetic 双公示
penalty CSV through `creditwatch ingest`'s file → run folder step, streamed in batches), facts
(`creditwatch facts`' import of a synthetic facts CSV about the week-1 warehouse's records), link_file
(`creditwatch link --operators --records --out` on bench.link_bench's data as CSV files, against a naive
rapidfuzz extractOne matcher timed on a sample in the same bench).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.generate import AS_OF, SCALES, SEED, WEEK1_RUN, WEEK2_RUN, generate

RESULTS = Path(__file__).parent / "results.md"
STAGES = ("generate", "crawl", "load", "transform", "link", "full", "incremental", "export", "publish", "removal",
          "ingest", "link_file", "facts")
GIB = 1024**3
MEMORY_TARGET = 4 * GIB
# Rows of the synthetic CASES.csv the removal stage answers (issue 13 item 7 names a 1.9M-row file).
REMOVAL_ROWS = {"small": 200_000, "1m": 1_900_000, "10m": 1_900_000}
# Rows of the synthetic 双公示 penalty CSV the ingest stage reads (issue 13 item 7: ~980k rows, 200 MB).
INGEST_ROWS = {"small": 100_000, "1m": 980_000, "10m": 980_000}
WEEK1_AS_OF = AS_OF - timedelta(days=7)
# Operators and records of the link_file stage's OPS.csv / RECS.csv (issue 18 item 3: 1M × 60k).
LINK_FILE_SIZES = {"small": (6_000, 100_000), "1m": (60_000, 1_000_000), "10m": (60_000, 1_000_000)}
# Records the naive extractOne matcher answers (a seeded sample: at ~0.1 s a record, all 1M would take a day);
# its time is extrapolated linearly to the whole file, as every record costs one scan of all operator names.
NAIVE_SAMPLE = 500
# Rows of the facts stage's CSV (issue 18 item 4: `creditwatch facts` streams a file of any size); the
# environment variable sets another count (the row-by-row code measured before streaming needed a smaller file).
FACTS_ROWS = {"small": 200_000, "1m": 1_000_000, "10m": 1_000_000}
FACTS_ROWS_VARIABLE = "CREDITWATCH_BENCH_FACTS_ROWS"
NAIVE_CUTOFF = 90  # fuzz.WRatio score (0-100) from which the naive matcher calls a record linked


@dataclass(frozen=True)
class Target:
    text: str
    seconds: float | None = None  # wall-clock limit at `at_rows`
    at_rows: int | None = None  # the size the limit is stated for (None: any size)
    share_of_full: float | None = None  # incremental: a fraction of the full run's median
    memory: int | None = None  # a peak-RSS limit other than MEMORY_TARGET
    speedup: float | None = None  # link_file: times faster than the naive matcher's projected seconds
    figure: str | None = None  # judge this figure of each run (its median) instead of the stage's seconds


TARGETS = {
    "crawl": Target("items/s reported (politeness off)"),
    "load": Target("≤ 60 s for 10M rows", 60, 10_000_000),
    "transform": Target("all marts ≤ 60 s on 10M", 60, 10_000_000, figure="marts_seconds"),
    "link": Target("≤ 60 s for 1M × 60k", 60, 1_000_000),
    "incremental": Target("≤ 20 % of the full run", share_of_full=0.20),
    "removal": Target("≤ 2 GiB RSS at any file size", memory=2 * GIB),
    "ingest": Target("≤ 2 GiB RSS at any file size", memory=2 * GIB),
    "link_file": Target("≥ 400× the naive extractOne matcher, ≤ 4 GiB", speedup=400),
    "facts": Target("≤ 2 GiB RSS at any file size", memory=2 * GIB),
}


@dataclass
class Measure:
    stage: str
    rows: int
    unit: str  # what `rows` counts
    seconds: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)  # bytes
    extra: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, list[float]] = field(default_factory=dict)  # a Target.figure's value in each run

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def judged(self, target: Target) -> float:
        """The median a time target is judged on: the stage's seconds, or the target's own figure."""
        return statistics.median(self.figures[target.figure]) if target.figure else self.median

    @property
    def rss(self) -> int:
        return max(self.peak_rss)


class BenchError(RuntimeError):
    pass


# -- workers: one measured run of one stage, in its own process ------------------------------------------------
def _runs(work: Path) -> tuple[Path, Path]:
    return work / "runs" / WEEK1_RUN, work / "runs" / WEEK2_RUN


def _rows(run_dir: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in run_dir.glob("*.parquet")
               if not p.name.endswith(".quarantine.parquet"))


def _fresh(path: Path) -> Path:
    for stale in (path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".tmp")):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)
    return path


# Warehouses a stage's first run keeps for later stages to start from; dropped when a bench starts (the
# generated runs are kept: they do not depend on the code measured).
FIXTURES = ("base_loaded.duckdb", "base_built.duckdb")


def _keep_as(path: Path, fixture: Path) -> None:
    """Keep the first run's warehouse as a fixture later stages start from."""
    if not fixture.exists():
        os.replace(path, fixture)
    else:
        path.unlink()


def _copy(fixture: Path, target: Path, make: Callable[[], None]) -> Path:
    if not fixture.exists():
        make()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixture, _fresh(target))
    return target


def work_generate(work: Path, scale: str) -> dict[str, Any]:
    shutil.rmtree(work / "runs", ignore_errors=True)
    started = time.perf_counter()
    week1, week2 = generate(work / "runs", scale)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": _rows(week1) + _rows(week2), "unit": "records (both weeks)"}


def work_crawl(work: Path, scale: str) -> dict[str, Any]:
    from flows.stages import crawl_source, source_names
    from replica.server import Faults, Replica
    from replica.sites import browser_session
    from replica.world import World

    run_dir = _fresh(work / "crawl-run")
    replica = Replica(World(SEED, operators=SCALES[scale].crawl_operators), Faults.none())
    replica.start()
    browser_session(replica, True)  # the firewall clearance (e.g. 加速乐) a browser session would hold
    try:
        started = time.perf_counter()
        manifests = {s: crawl_source(s, run_dir, replica_url=replica.base_url, solver="replica")
                     for s in source_names()}
        seconds = time.perf_counter() - started
    finally:
        replica.stop()
    shutil.rmtree(run_dir, ignore_errors=True)
    incomplete = [s for s, m in manifests.items() if not m.complete]
    return {"seconds": seconds, "rows": sum(m.items for m in manifests.values()), "unit": "items",
            "extra": {"pages": sum(m.pages_fetched or 0 for m in manifests.values()),
                      "incomplete": incomplete}}


def _load_base(work: Path) -> None:
    from warehouse.db import connect
    from warehouse.load import load_run

    target = _fresh(work / "building.duckdb")
    con = connect(target)
    load_run(con, _runs(work)[0])
    con.close()
    os.replace(target, work / "base_loaded.duckdb")


def _full_base(work: Path) -> None:
    from flows.stages import apply_run
    from warehouse.db import connect

    target = _fresh(work / "building.duckdb")
    con = connect(target)
    apply_run(con, _runs(work)[0], as_of=WEEK1_AS_OF)
    con.close()
    os.replace(target, work / "base_built.duckdb")


def work_load(work: Path, scale: str) -> dict[str, Any]:
    from warehouse.db import connect
    from warehouse.load import load_run

    path = _fresh(work / "load.duckdb")
    con = connect(path)  # creates and migrates the empty warehouse before the clock starts
    started = time.perf_counter()
    result = load_run(con, _runs(work)[0])
    seconds = time.perf_counter() - started
    con.close()
    _keep_as(path, work / "base_loaded.duckdb")
    return {"seconds": seconds, "rows": result.new, "unit": "rows", "extra": {"db_bytes": _size(work)}}


def work_transform(work: Path, scale: str) -> dict[str, Any]:
    from transforms.build import build
    from warehouse.db import connect

    path = _copy(work / "base_loaded.duckdb", work / "transform.duckdb", lambda: _load_base(work))
    con = connect(path)
    started = time.perf_counter()
    result = build(con, as_of=WEEK1_AS_OF)
    seconds = time.perf_counter() - started
    con.close()
    _keep_as(path, work / "base_built.duckdb")
    rows = count(work / "base_built.duckdb", "SELECT count(*) FROM raw.records")
    slowest = sorted(result.seconds.items(), key=lambda kv: -kv[1])[:5]
    marts = sum(s for name, s in result.seconds.items() if name.startswith("marts."))
    return {"seconds": seconds, "rows": rows, "unit": "records",
            "extra": {"marts_seconds": round(marts, 2), "slowest_models": slowest}}


def count(path: Path, query: str) -> int:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query).fetchone()[0]
    finally:
        con.close()


def work_link(work: Path, scale: str) -> dict[str, Any]:
    import random

    from bench import link_bench
    from transforms.link import link_records

    records = 100_000 if scale == "small" else 1_000_000
    rng = random.Random(link_bench.SEED)
    operators = link_bench.make_operators(60_000, rng)
    table = link_bench.make_records(operators, records, rng)
    started = time.perf_counter()
    links = link_records(operators, table)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(table), "unit": "records × 60k operators",
            "extra": {"status": {k: int(v) for k, v in links["status"].value_counts().items()}}}


def work_full(work: Path, scale: str) -> dict[str, Any]:
    from flows.stages import apply_run
    from warehouse.db import connect

    path = _fresh(work / "full.duckdb")
    con = connect(path)
    started = time.perf_counter()
    loaded, _ = apply_run(con, _runs(work)[0], as_of=WEEK1_AS_OF)
    seconds = time.perf_counter() - started
    con.close()
    _keep_as(path, work / "base_built.duckdb")
    return {"seconds": seconds, "rows": loaded.new, "unit": "records"}


def work_incremental(work: Path, scale: str) -> dict[str, Any]:
    from flows.stages import apply_run
    from warehouse.db import connect

    path = _copy(work / "base_built.duckdb", work / "incremental.duckdb", lambda: _full_base(work))
    con = connect(path)
    started = time.perf_counter()
    loaded, built = apply_run(con, _runs(work)[1], as_of=AS_OF)
    seconds = time.perf_counter() - started
    con.close()
    _fresh(path)
    # Where a weekly run goes: the models' share (the rest is the load and the commit).
    slowest = sorted(built.seconds.items(), key=lambda kv: -kv[1])[:5]
    return {"seconds": seconds, "rows": loaded.new + loaded.changed + loaded.removed, "unit": "records differing",
            "extra": {"new": loaded.new, "changed": loaded.changed, "removed": loaded.removed,
                      "models_seconds": round(sum(built.seconds.values()), 1), "slowest_models": slowest}}


def work_export(work: Path, scale: str) -> dict[str, Any]:
    from transforms.export import _as_of, export_week
    from transforms.reporting import iso_week
    from warehouse.db import connect

    if not (work / "base_built.duckdb").exists():
        _full_base(work)
    con = connect(work / "base_built.duckdb", read_only=True)  # as `creditwatch export` opens it (memory limit)
    out = work / "exports"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = export_week(con, out, iso_week(_as_of(con)))
    seconds = time.perf_counter() - started
    con.close()
    files = result.files
    rows = sum(result.row_counts.values())
    return {"seconds": seconds, "rows": rows, "unit": "rows in the workbook's sheets",
            "extra": {"bytes": sum(f.stat().st_size for f in files)}}


def work_publish(work: Path, scale: str) -> dict[str, Any]:
    from warehouse.snapshot import publish_snapshot

    path = _copy(work / "base_built.duckdb", work / "publish" / "creditwatch.duckdb", lambda: _full_base(work))
    started = time.perf_counter()
    publish_snapshot(path)
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    shutil.rmtree(work / "publish")
    return {"seconds": seconds, "rows": size // 2**20, "unit": "MiB copied"}


def removal_cases(work: Path, scale: str) -> Path:
    return work / f"removal-cases-{REMOVAL_ROWS[scale]}.csv"


def work_removal(work: Path, scale: str) -> dict[str, Any]:
    from transforms.removal import removal_csv

    cases = removal_cases(work, scale)  # written first by `prepare`, in a process of its own
    out = work / "removal-out.csv"
    started = time.perf_counter()
    result = removal_csv(cases, AS_OF, out)
    seconds = time.perf_counter() - started
    out.unlink()
    return {"seconds": seconds, "rows": result.rows, "unit": "case rows (CSV in, CSV out)",
            "extra": {"answered": result.answered, "unknown": result.unknown, "refused": len(result.errors),
                      "file_mib": round(cases.stat().st_size / 2**20, 1)}}


def write_removal_cases(work: Path, scale: str) -> None:
    from transforms.removal.bench import write_cases_csv

    if not removal_cases(work, scale).exists():
        write_cases_csv(removal_cases(work, scale), REMOVAL_ROWS[scale])


def write_ingest_file(work: Path, scale: str) -> None:
    if not ingest_file_path(work, scale).exists():
        write_penalty_csv(ingest_file_path(work, scale), INGEST_ROWS[scale])


def ingest_file_path(work: Path, scale: str) -> Path:
    return work / f"ingest-penalties-{INGEST_ROWS[scale]}.csv"


def write_penalty_csv(path: Path, rows: int) -> Path:
    """A 双公示 行政处罚 CSV (official headers, GB18030 like many official exports) of `rows` distinct decisions,
    written row by row; every 50th 违法事实 holds a quoted line break and every 7th an ID number to mask."""
    import csv

    from pipelines.ingest import PENALTY_HEADERS

    headers = list(PENALTY_HEADERS)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for i in range(rows):
            facts = f"未按规定履行义务，第{i}号案件" + ("\n经查属实" if i % 50 == 0 else "") + (
                f"，当事人身份证号110101{1960 + i % 40}0101{i % 1000:03d}3" if i % 7 == 0 else "")
            values = {"行政相对人名称": f"测试{i % 60000}科技有限公司", "行政处罚决定书文号": f"京市监罚〔2025〕{i}号",
                      "违法事实": facts, "处罚依据": "《中华人民共和国电信条例》第五十九条", "处罚类别": "罚款",
                      "处罚内容": f"罚款{1000 + i % 90000}元", "罚款金额(万元)": f"{(1000 + i % 90000) / 10000:.4f}",
                      "处罚决定日期": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", "处罚机关": "北京市通信管理局",
                      "数据来源单位": "北京市通信管理局"}
            writer.writerow([values.get(h, "") for h in headers])
    os.replace(tmp, path)
    return path


def work_ingest(work: Path, scale: str) -> dict[str, Any]:
    from pipelines.ingest import FORMAT, ingest_file
    from spiders.source import item_fields, sources

    source = next(name for name, s in sources().items() if FORMAT in s.files)
    path = ingest_file_path(work, scale)  # written first by `prepare`, in a process of its own
    run_dir = _fresh(work / "ingest-run")
    started = time.perf_counter()
    manifest = ingest_file(source, path, run_dir, item_fields(source), sources()[source].files[FORMAT])
    seconds = time.perf_counter() - started
    shutil.rmtree(run_dir)
    return {"seconds": seconds, "rows": manifest.expected_rows, "unit": "file rows (CSV → run folder)",
            "extra": {"records": manifest.items, "quarantined": manifest.quarantined,
                      "file_mib": round(path.stat().st_size / 2**20, 1)}}


def link_file_paths(work: Path, scale: str) -> dict[str, Path]:
    operators, records = LINK_FILE_SIZES[scale]
    stem = f"link-{operators}x{records}"
    return {"operators": work / f"{stem}-ops.csv", "records": work / f"{stem}-recs.csv",
            "truth": work / f"{stem}-truth.csv"}


def write_link_files(work: Path, scale: str) -> None:
    """OPS.csv, RECS.csv and TRUTH.csv (record_id → the operator it was generated from, blank for other
    companies) from bench.link_bench's seeded generator: the link stage's data at this size. Written by
    `prepare` before the first run, so neither the generator's memory nor the writing is measured."""
    import random

    import pandas as pd

    from bench import link_bench

    paths = link_file_paths(work, scale)
    if all(path.exists() for path in paths.values()):
        return
    operators_count, records_count = LINK_FILE_SIZES[scale]
    rng = random.Random(link_bench.SEED)
    operators = link_bench.make_operators(operators_count, rng)
    records, truth = link_bench.make_records_with_truth(operators, records_count, rng)
    truth_table = pd.DataFrame({"record_id": records["record_id"], "operator_id": truth})
    for frame, path in ((operators, paths["operators"]), (records, paths["records"]), (truth_table, paths["truth"])):
        tmp = path.with_name(path.name + ".tmp")  # a bench stopped mid-write must not leave a short file
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)


def link_precision(links: Path, truth: Path) -> dict[str, Any]:
    """Precision (right operator among the rows linked) and recall (right links among the records that are
    about an operator) of a LINKS.csv against TRUTH.csv; DuckDB with a small memory limit, so the check
    stays below the linker's own peak in the worker's RSS."""
    import duckdb

    con = duckdb.connect(config={"memory_limit": "256MB", "threads": 1})
    try:
        linked, right, about_operators, review = con.execute(f"""
            SELECT count(*) FILTER (l.status = 'linked'),
                   count(*) FILTER (l.status = 'linked' AND l.operator_id = t.operator_id),
                   count(t.operator_id), count(*) FILTER (l.status = 'review')
            FROM read_csv({_sql_text(links)}, all_varchar = true) l
            JOIN read_csv({_sql_text(truth)}, all_varchar = true) t USING (record_id)""").fetchone()
    finally:
        con.close()
    return {"precision": _share(right, linked), "recall": _share(right, about_operators),
            "linked": linked, "linked_right": right, "review": review}


def _sql_text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def work_link_file(work: Path, scale: str) -> dict[str, Any]:
    from transforms.link import link_csv_files

    paths = link_file_paths(work, scale)  # written first by `prepare` (write_link_files)
    out = work / "link-file-out.csv"
    started = time.perf_counter()
    counts = link_csv_files(paths["operators"], paths["records"], out)
    seconds = time.perf_counter() - started
    quality = link_precision(out, paths["truth"])  # after the clock: not part of `creditwatch link`
    out.unlink()
    return {"seconds": seconds, "rows": sum(counts.values()),
            "unit": f"records × {LINK_FILE_SIZES[scale][0]:,} operators (CSV → CSV)",
            "extra": {"status": counts, **quality}}


def naive_sample(paths: dict[str, Path], records: int) -> list[tuple[str, str | None]]:
    """NAIVE_SAMPLE (name, true operator) pairs, a seeded sample of RECS.csv read alongside TRUTH.csv."""
    import csv
    import random

    chosen = set(random.Random(SEED).sample(range(records), NAIVE_SAMPLE))
    sample = []
    with paths["records"].open(encoding="utf-8", newline="") as recs, \
            paths["truth"].open(encoding="utf-8", newline="") as truth:
        record_rows, truth_rows = csv.DictReader(recs), csv.DictReader(truth)
        for number, (record, true) in enumerate(zip(record_rows, truth_rows, strict=True)):
            if number in chosen:
                sample.append((record["name"], true["operator_id"] or None))
    return sample


def work_link_naive(work: Path, scale: str) -> dict[str, Any]:
    """The naive matcher the link_file target compares with: process.extractOne of each record's name over
    every operator name (WRatio, linked from NAIVE_CUTOFF), on a sample, projected to the whole file."""
    import pandas as pd
    from rapidfuzz import fuzz, process

    paths = link_file_paths(work, scale)
    operators = pd.read_csv(paths["operators"], dtype=str, keep_default_na=False)
    names, ids = operators["name"].tolist(), operators["operator_id"].tolist()
    sample = naive_sample(paths, LINK_FILE_SIZES[scale][1])
    started = time.perf_counter()
    answers = [process.extractOne(name, names, scorer=fuzz.WRatio, score_cutoff=NAIVE_CUTOFF)
               for name, _ in sample]
    seconds = time.perf_counter() - started
    linked = [(ids[answer[2]], true) for answer, (_, true) in zip(answers, sample, strict=True) if answer]
    right = sum(1 for found, true in linked if found == true)
    about_operators = sum(1 for _, true in sample if true)
    return {"seconds": seconds, "rows": len(sample), "unit": "sampled records",
            "extra": {"projected_s": round(seconds / len(sample) * LINK_FILE_SIZES[scale][1], 1),
                      "precision": _share(right, len(linked)), "recall": _share(right, about_operators),
                      "linked": len(linked), "linked_right": right}}


def facts_rows(scale: str) -> int:
    return int(os.environ.get(FACTS_ROWS_VARIABLE) or FACTS_ROWS[scale])


def facts_csv_path(work: Path, scale: str) -> Path:
    return work / f"facts-{facts_rows(scale)}.csv"


# The facts file's rows: row i is about the week-1 warehouse's record i modulo its count; every 4th row names
# it by its decision number or case code where that names only this record (the rest by record_id), and each
# row's dates and note differ, so every row is a new fact.
FACTS_CSV_SQL = """
COPY (
    WITH keys AS (
        SELECT record_id, unnest([record_id, natural_key, fields_json ->> 'decision_no',
                                  fields_json ->> 'case_code']) AS key FROM raw.records
        UNION ALL SELECT record_id, reference FROM core.credit_records
    ), sole AS (
        SELECT key, any_value(record_id) AS record_id FROM keys WHERE key IS NOT NULL
        GROUP BY key HAVING count(DISTINCT record_id) = 1
    ), numbered AS (
        SELECT r.record_id, row_number() OVER (ORDER BY r.record_id) - 1 AS n,
               (SELECT min(key) FROM sole s WHERE s.record_id = r.record_id AND s.key <> r.record_id
                AND s.key IN (r.fields_json ->> 'decision_no', r.fields_json ->> 'case_code')) AS own_key
        FROM raw.records r
    ), picks AS (  -- the record each row is about, as a column: an expression in the join made a nested loop
        SELECT i, i % (SELECT count(*) FROM numbered) AS n FROM range({rows}) AS t(i)
    )
    SELECT CASE WHEN i % 4 = 0 AND own_key IS NOT NULL THEN own_key ELSE record_id END AS reference,
           DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS obligations_done_date,
           CASE WHEN i % 2 = 1 THEN DATE '2025-06-01' + CAST(i % 97 AS INTEGER) END AS corrected_date,
           '基准行 ' || i AS note
    FROM picks JOIN numbered USING (n)
    ORDER BY i
) TO '{path}' (HEADER)
"""


def write_facts_csv(work: Path, scale: str) -> None:
    """The facts CSV about the week-1 warehouse (base_built, built here first if no stage has), written by
    `prepare` so its making is outside the worker's clock and RSS."""
    import duckdb

    path = facts_csv_path(work, scale)
    if path.exists():
        return
    if not (work / "base_built.duckdb").exists():
        _full_base(work)
    tmp = path.with_name(path.name + ".tmp")
    con = duckdb.connect(str(work / "base_built.duckdb"), read_only=True)
    try:
        con.execute(FACTS_CSV_SQL.format(path=str(tmp).replace("'", "''"), rows=facts_rows(scale)))
    finally:
        con.close()
    os.replace(tmp, path)


def work_facts(work: Path, scale: str) -> dict[str, Any]:
    from warehouse.db import connect
    from warehouse.facts import import_facts

    path = _copy(work / "base_built.duckdb", work / "facts.duckdb", lambda: _full_base(work))
    facts = facts_csv_path(work, scale)  # written first by `prepare` (write_facts_csv)
    con = connect(path)  # opening and migrating happen before the clock
    started = time.perf_counter()
    written = import_facts(con, facts, "bench")  # the import alone: `creditwatch facts` then rebuilds the models
    seconds = time.perf_counter() - started
    con.close()
    _fresh(path)
    return {"seconds": seconds, "rows": facts_rows(scale), "unit": "fact rows (CSV → ops.compliance_facts)",
            "extra": {"written": written, "file_mib": round(facts.stat().st_size / 2**20, 1)}}


def _size(work: Path) -> int:
    path = work / "base_loaded.duckdb"
    return path.stat().st_size if path.exists() else 0


WORKERS: dict[str, Callable[[Path, str], dict[str, Any]]] = {
    "generate": work_generate, "crawl": work_crawl, "load": work_load, "transform": work_transform,
    "link": work_link, "full": work_full, "incremental": work_incremental, "export": work_export,
    "publish": work_publish, "removal": work_removal, "ingest": work_ingest, "link_file": work_link_file,
    "link_naive": work_link_naive,  # not a stage of its own: link_file's comparison, run once after it
    "facts": work_facts,
}
# Inputs the parent writes before a stage's first run, so their making is outside the worker's clock and RSS.
PREPARE: dict[str, Callable[[Path, str], None]] = {
    "removal": write_removal_cases, "ingest": write_ingest_file, "link_file": write_link_files,
    "facts": write_facts_csv}


# -- the parent: spawn, measure, summarise ---------------------------------------------------------------------
def measure_once(stage: str, work: Path, scale: str) -> tuple[dict[str, Any], int]:
    """Run one stage in a fresh process; returns its JSON figures and its peak RSS in bytes."""
    command = [sys.executable, "-m", "bench.run", "--worker", stage, "--workdir", str(work), "--scale", scale]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-8:])
        raise BenchError(f"stage {stage} failed (exit {process.returncode}):\n{tail}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"stage {stage} printed no result; stderr:\n{stderr[-2000:]}")
    return json.loads(lines[-1]), usage.ru_maxrss * 1024  # Linux reports KiB


def prepare(stage: str, work: Path, scale: str) -> None:
    """Write a stage's inputs in a process of their own: a worker's ru_maxrss starts from its parent's peak
    (exec records the forked address space's high-water mark), so making them here would inflate every peak."""
    command = [sys.executable, "-m", "bench.run", "--prepare", stage, "--workdir", str(work), "--scale", scale]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"preparing {stage} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")


def run_stage(stage: str, work: Path, scale: str, repeat: int) -> Measure:
    runs = 1 if stage == "generate" else repeat
    if stage in PREPARE:
        prepare(stage, work, scale)
    measure: Measure | None = None
    for number in range(runs):
        figures, rss = measure_once(stage, work, scale)
        if measure is None:
            measure = Measure(stage, figures["rows"], figures["unit"], extra=figures.get("extra", {}))
        measure.seconds.append(figures["seconds"])
        measure.peak_rss.append(rss)
        target = TARGETS.get(stage)
        if target and target.figure:
            measure.figures.setdefault(target.figure, []).append(figures["extra"][target.figure])
        print(f"  {stage} run {number + 1}/{runs}: {figures['seconds']:.2f} s, {figures['rows']:,} "
              f"{figures['unit']}, peak RSS {rss / 2**20:,.0f} MiB", flush=True)
    assert measure is not None
    if stage == "link_file":
        measure.extra.update(naive_figures(work, scale))
    return measure


def naive_figures(work: Path, scale: str) -> dict[str, Any]:
    """The naive matcher's figures (one run, its own process), prefixed naive_ in link_file's details."""
    figures, rss = measure_once("link_naive", work, scale)
    extra = figures["extra"]
    print(f"  link_naive: {figures['seconds']:.2f} s for {figures['rows']} {figures['unit']}, projected "
          f"{extra['projected_s']:,.0f} s for the file, peak RSS {rss / 2**20:,.0f} MiB", flush=True)
    return {"naive_sample": figures["rows"], "naive_sample_s": round(figures["seconds"], 2),
            **{f"naive_{key}": value for key, value in extra.items()}, "naive_peak_rss_mib": rss // 2**20}


def verdict(measure: Measure, full: Measure | None) -> tuple[str, str]:
    """(target text, met?) — a time limit stated for another size is judged on a linear projection."""
    target = TARGETS.get(measure.stage)
    limit = target.memory if target and target.memory else MEMORY_TARGET
    memory_ok = measure.rss <= limit
    memory_note = "" if memory_ok else f"; RSS {measure.rss / GIB:.1f} GiB > {limit / GIB:.0f} GiB"
    if target is None:
        return "≤ 4 GiB RSS", ("yes" if memory_ok else "no") + memory_note
    if target.speedup is not None:
        return target.text, _speedup_verdict(measure, target.speedup, memory_ok) + memory_note
    if target.share_of_full is not None:
        if full is None:
            return target.text, "n/a (run the full stage too)"
        share = measure.median / full.median
        met = share <= target.share_of_full and memory_ok
        return target.text, f"{'yes' if met else 'no'} ({share:.0%} of {full.median:.1f} s){memory_note}"
    if target.seconds is None:
        return target.text, ("yes" if memory_ok else "no") + memory_note
    judged = f" {target.figure}" if target.figure else ""
    if target.at_rows and measure.rows != target.at_rows and not (
            0.9 <= measure.rows / target.at_rows <= 1.1):
        projected = measure.judged(target) * target.at_rows / max(measure.rows, 1)
        met = projected <= target.seconds and memory_ok
        return target.text, (f"{'likely' if met else 'unlikely'} (linear projection {projected:.0f} s{judged})"
                             + memory_note)
    seconds = measure.judged(target)
    met = seconds <= target.seconds and memory_ok
    over = "" if seconds <= target.seconds else f", {seconds - target.seconds:.0f} s over"
    return target.text, f"{'yes' if met else 'no'} ({seconds:.1f} s{judged}){over}{memory_note}"


def _speedup_verdict(measure: Measure, speedup: float, memory_ok: bool) -> str:
    naive = measure.extra.get("naive_projected_s")
    if not naive:
        return "n/a (no naive matcher figure)"
    times = naive / measure.median
    met = times >= speedup and memory_ok
    return f"{'yes' if met else 'no'} ({times:,.0f}× : naive {naive:,.0f} s projected)"


def machine() -> dict[str, str]:
    import duckdb
    import pandas
    import pyarrow

    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return {
        "nproc": str(os.cpu_count()), "cpu": cpu, "memory": memory, "os": platform.platform(),
        "python": platform.python_version(), "duckdb": duckdb.__version__, "pyarrow": pyarrow.__version__,
        "pandas": pandas.__version__,
        "duckdb memory_limit": _memory_limit(),
    }


def table(measures: list[Measure]) -> str:
    full = next((m for m in measures if m.stage == "full"), None)
    lines = ["| stage | size | median s | runs | rows/s | peak RSS | target | met? |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for m in measures:
        target, met = verdict(m, full)
        rate = f"{m.rows / m.median:,.0f}" if m.median > 0 and m.unit not in ("MiB copied",) else "—"
        lines.append(f"| {m.stage} | {m.rows:,} {m.unit} | {m.median:.2f} | {len(m.seconds)} | {rate} | "
                     f"{m.rss / 2**20:,.0f} MiB | {target} | {met} |")
    return "\n".join(lines)


def report(measures: list[Measure], scale: str, repeat: int, command: str, elapsed: float) -> str:
    info = machine()
    parts = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` (scale {scale}: "
        f"{SCALES[scale].records:,} records, {SCALES[scale].operators:,} operators; median of {repeat} "
        f"runs, each in a fresh process; whole benchmark {elapsed / 60:.1f} min). See bench/README.md for "
        "what each figure means.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        table(measures),
    ]
    notes = []
    for m in measures:
        extra = {k: v for k, v in m.extra.items() if k != "slowest_models"}
        if extra:
            notes.append(f"- {m.stage}: " + ", ".join(f"{k} {v}" for k, v in extra.items()))
        if m.extra.get("slowest_models"):
            slow = ", ".join(f"{name} {sec:.1f} s" for name, sec in m.extra["slowest_models"])
            notes.append(f"- {m.stage}, slowest models (first run): {slow}")
    if notes:
        parts += ["", "Details:", "", *notes]
    return "\n".join(parts) + "\n"


def _memory_limit() -> str:
    from warehouse.db import MEMORY_LIMIT

    return MEMORY_LIMIT + ("" if os.environ.get("CREDITWATCH_MEMORY_LIMIT") else " (warehouse/db.py default)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=list(SCALES), default="small")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per stage (median reported)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--workdir", type=Path, help="where data and warehouses go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (generated runs, warehouses)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the markdown report (default bench/results.md)")
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", choices=list(PREPARE), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        PREPARE[args.prepare](args.workdir, args.scale)
        return 0
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.workdir, args.scale), default=str))
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    work = args.workdir or Path(tempfile.mkdtemp(prefix=f"creditwatch-bench-{args.scale}-"))
    work.mkdir(parents=True, exist_ok=True)
    stages = [s for s in STAGES if s in args.stages]
    if "generate" not in stages and not _runs(work)[0].exists() and not set(stages) <= {"removal", "ingest",
                                                                                           "link_file"}:
        stages.insert(0, "generate")  # every other stage reads the generated runs
    for fixture in FIXTURES:  # built by this code, in this invocation: a kept work dir may hold another commit's
        _fresh(work / fixture)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"bench: scale {args.scale}, {args.repeat} run(s) per stage, work dir {work}", flush=True)
    started = time.perf_counter()
    measures, failure = [], None
    try:
        for stage in stages:
            measures.append(run_stage(stage, work, args.scale, args.repeat))
    except BenchError as error:
        failure = str(error)  # the stages measured so far are still reported, with the failure
        print(f"bench: {error}", file=sys.stderr)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    text = report(measures, args.scale, args.repeat, command.strip(), time.perf_counter() - started)
    if failure:
        text += "\nFAILED: " + failure.replace("\n", " ")[:1500] + "\n"
    args.output.write_text(text, "utf-8")
    print()
    print(text)
    print(f"Written to {args.output}. Rerun: .venv/bin/{command.strip()}")
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
