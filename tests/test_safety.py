"""Safe by default (issue 13): each hostile or careless use that once damaged data, reproduced, with the
data shown intact afterwards. Small warehouses built from run folders; the CLI is driven in-process."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shlex
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from flows.cli import app
from flows.stages import load_and_build
from pipelines.items import RecordItem
from pipelines.run_folder import RunFolder, RunWriter
from tests.helpers import licence_fields, write_run
from warehouse.snapshot import snapshot_path

AS_OF = date(2026, 11, 23)
runner = CliRunner()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(warehouse: Path, *args: str) -> tuple[int, str, BaseException | None]:
    """Run the CLI in-process; the exit code, the output, and the exception main() would print as one line."""
    result = runner.invoke(app, ["--warehouse", str(warehouse), *args])
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.output, error


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small warehouse with a snapshot: two licences, one of them named like a formula."""
    warehouse = tmp_path_factory.mktemp("safety") / "data" / "creditwatch.duckdb"
    runs = warehouse.parent / "runs"
    run = write_run(runs, "20261123T060000Z", "miit_licences",
                    {"L1": licence_fields(1), "L2": licence_fields(2, name="=HYPERLINK(\"x\")科技有限公司")})
    load_and_build(warehouse, run, as_of=AS_OF)
    return warehouse


@pytest.fixture
def warehouse(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built warehouse and its snapshot (tests may try to damage it)."""
    target = tmp_path / "data" / built.name
    snapshot_path(target).parent.mkdir(parents=True)
    shutil.copyfile(built, target)
    shutil.copyfile(snapshot_path(built), snapshot_path(target))
    return target


# ------------------------------------------------------------------------------------ 1. analysts' sql

HOSTILE = [
    "copy (select 1) to '{warehouse}'",
    "copy (select 1) to '{snapshot}'",
    "copy (select * from raw.records) to '{outside}'",
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/passwd')",
    "attach '{outside}.duckdb' as other",
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "create table marts.x as select 1",
    "drop table raw.records",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_sql_cannot_write_read_files_or_install(warehouse: Path, tmp_path: Path, query: str) -> None:
    snapshot = snapshot_path(warehouse)
    before = digest(warehouse), digest(snapshot)
    outside = tmp_path / "leak.csv"
    code, output, error = invoke(warehouse, "sql", query.format(warehouse=warehouse, snapshot=snapshot,
                                                                outside=outside))
    assert code != 0 and error is not None, output
    assert "root:" not in output
    assert (digest(warehouse), digest(snapshot)) == before
    assert not outside.exists() and not Path(f"{outside}.duckdb").exists()
    for live in ("", "--live"):  # both files still answer
        code, output, _ = invoke(warehouse, "sql", *[a for a in (live,) if a], "--json",
                                 "select count(*) AS n from raw.records")
        assert code == 0 and json.loads(output) == {"n": 2}


def test_sql_still_reads_every_schema_and_prints_json(warehouse: Path) -> None:
    code, output, error = invoke(warehouse, "sql", "--json", "select table_schema AS s, count(*) AS n from "
                                 "information_schema.tables group by 1 order by 1")
    assert code == 0, error
    schemas = {json.loads(line)["s"] for line in output.splitlines()}
    assert {"raw", "core", "marts", "ops", "staging"} <= schemas


def test_sql_to_writes_an_extract_the_cli_writes(warehouse: Path, tmp_path: Path) -> None:
    query = "select natural_key, fields_json ->> 'company_name' AS name from raw.records order by 1"
    code, output, error = invoke(warehouse, "sql", query, "--to", str(tmp_path / "x" / "out.parquet"))
    assert code == 0, error
    assert pq.read_table(tmp_path / "x" / "out.parquet").to_pydict()["natural_key"] == ["L1", "L2"]
    code, _, error = invoke(warehouse, "sql", query, "--to", str(tmp_path / "out.csv"))
    assert code == 0, error
    rows = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8-sig")))
    assert rows[0] == ["natural_key", "name"] and rows[2][1].startswith("'=HYPERLINK")  # formula escaped
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("target", ["warehouse", "snapshot", "wal", "other.txt"])
def test_sql_to_refuses_the_warehouse_its_snapshot_and_other_formats(warehouse: Path, target: str) -> None:
    paths = {"warehouse": warehouse, "snapshot": snapshot_path(warehouse),
             "wal": warehouse.with_name(warehouse.name + ".wal"), "other.txt": warehouse.parent / "other.txt"}
    before = digest(warehouse), digest(snapshot_path(warehouse))
    code, _, error = invoke(warehouse, "sql", "select 1", "--to", str(paths[target]))
    assert code != 0 and isinstance(error, ValueError) and str(paths[target]) in str(error)
    assert (digest(warehouse), digest(snapshot_path(warehouse))) == before
    assert not paths["wal"].exists() and not paths["other.txt"].exists()


# ------------------------------------------------------------------------------------------ 2. restore


def test_a_truncated_backup_never_replaces_the_warehouse_even_twice(warehouse: Path, tmp_path: Path) -> None:
    from warehouse.maintenance import backup, restore

    saved = backup(warehouse, tmp_path / "good.duckdb")
    truncated = tmp_path / "truncated.duckdb"
    truncated.write_bytes(saved.read_bytes()[: saved.stat().st_size * 2 // 3])
    before = digest(warehouse), digest(snapshot_path(warehouse))
    for _ in range(2):  # the second try once overwrote the only good copy
        code, _, error = invoke(warehouse, "restore", str(truncated))
        assert code != 0 and "nothing was changed" in str(error) and str(truncated) in str(error)
        assert (digest(warehouse), digest(snapshot_path(warehouse))) == before
        assert not list(warehouse.parent.glob("*.before-restore*")) and not list(warehouse.parent.glob("*tmp*"))
    first, second = restore(saved, warehouse), restore(saved, warehouse)
    assert first and second and first != second and first.exists() and second.exists()  # each kept, none overwritten
    assert digest(first) == before[0]
    code, output, _ = invoke(warehouse, "sql", "--json", "select count(*) AS n from raw.records")
    assert code == 0 and json.loads(output) == {"n": 2}


def test_a_backup_with_duplicate_keys_fails_the_doctors_checks(warehouse: Path, tmp_path: Path) -> None:
    from warehouse.maintenance import restore

    broken = tmp_path / "dupes.duckdb"
    shutil.copyfile(warehouse, broken)
    con = duckdb.connect(str(broken))
    con.execute("CREATE TABLE raw.records_copy AS SELECT * FROM raw.records UNION ALL SELECT * FROM raw.records")
    con.execute("DROP TABLE raw.records CASCADE")
    con.execute("ALTER TABLE raw.records_copy RENAME TO records")
    con.close()
    before = digest(warehouse)
    with pytest.raises(Exception, match="integrity checks.*nothing was changed"):
        restore(broken, warehouse)
    assert digest(warehouse) == before


# ------------------------------------------------------------------------------------------ 3. masking

IDS = {"plain": "110101198001010010", "spaced": "110101 19800101 0010", "hyphenated": "110101-19800101-0010",
       "legacy": "110101800101001", "x": "11010119800101001X"}


def _penalty_item(key: str, id_text: str) -> RecordItem:
    fields = {"subject_name": f"张三{id_text}", "decision_no": f"京罚〔2025〕{id_text}号",
              "facts": [{"note": f"身份证 {id_text}"}], "subject_id_number": "110***************10"}
    return RecordItem("creditchina_penalties", "penalty", key, f"http://x/q?id={id_text}",
                      {"cfXdrMc": f"张三{id_text}"}, fields)


@pytest.mark.parametrize("form", list(IDS))
def test_no_id_number_survives_masking_in_any_field_or_the_natural_key(tmp_path: Path, form: str) -> None:
    id_text = IDS[form]
    digits = id_text.replace(" ", "").replace("-", "")
    folder = RunFolder(tmp_path / "data" / "runs" / "r1")
    writer = RunWriter(folder, "creditchina_penalties")
    assert writer.add(_penalty_item(f"京罚〔2025〕{id_text}号", id_text))
    other = "370101199001011234"
    writer.add(_penalty_item(f"京罚〔2025〕{other}号", other))  # another person: another key
    writer.write()
    data = folder.records("creditchina_penalties").read_bytes()
    rows = pq.read_table(folder.records("creditchina_penalties")).to_pylist()
    text = json.dumps(rows, ensure_ascii=False)
    for shown in {id_text, digits, digits[3:-2]}:
        assert shown not in text and shown.encode() not in data
    keys = [r["natural_key"] for r in rows]
    assert len(set(keys)) == 2 and all("~h" in k and "*" in k for k in keys)
    # The same raw key gives the same stored key (and id) on the next run: the key file is reused, 0600.
    again = RunWriter(RunFolder(tmp_path / "data" / "runs" / "r2"), "creditchina_penalties")
    again.add(_penalty_item(f"京罚〔2025〕{id_text}号", id_text))
    assert again.rows[0]["natural_key"] == keys[0] and again.rows[0]["record_id"] == rows[0]["record_id"]
    assert (tmp_path / "data" / "masking.key").stat().st_mode & 0o777 == 0o600


def test_a_key_without_an_id_number_stays_as_published(tmp_path: Path) -> None:
    writer = RunWriter(RunFolder(tmp_path / "data" / "runs" / "r1"), "creditchina_penalties")
    writer.add(_penalty_item("京罚〔2025〕12号", "91110000802100433B"))  # a company's USCC is public
    assert writer.rows[0]["natural_key"] == "京罚〔2025〕12号"
    assert "91110000802100433B" in writer.rows[0]["fields_json"]
    assert not (tmp_path / "data" / "masking.key").exists()  # made on first need only


def test_the_data_test_still_catches_a_grouped_id_in_the_marts(warehouse: Path) -> None:
    sql = (Path(__file__).parents[1] / "transforms" / "data_tests" / "no_personal_id_numbers_in_marts.sql").read_text()
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute(sql).fetchall() == []
        con.execute("INSERT INTO marts.open_records (record_id, subject_name) "
                    "VALUES ('leak', '张三 110101-19800101-0010')")
        assert con.execute(sql).fetchall() == [("leak",)]
    finally:
        con.close()


# ------------------------------------------------------------------- 4. load runs the checks; the doctor

LEAK = {"case_code": "(2024)京01执1号", "subject_name": "测试1科技有限公司", "court": "北京市第一中级人民法院",
        "disrupt_type": "被执行人 110101-19800101-0010 有履行能力而拒不履行", "published_on": "2026-01-05"}


def test_load_runs_the_data_tests_and_the_doctor_reports_them(warehouse: Path) -> None:
    from flows.stages import doctor
    from flows.stages import load as load_without_tests

    # A run folder written by an older version (an unmasked, grouped ID), left behind by a failed ingest.
    leaked = write_run(warehouse.parent / "runs", "20261124T060000Z", "court_dishonest", {"k1": LEAK},
                       record_type="court_dishonest")
    code, _, error = invoke(warehouse, "load", str(leaked), "--as-of", AS_OF.isoformat())
    assert code != 0 and "no_personal_id_numbers_in_marts" in str(error)
    code, output, _ = invoke(warehouse, "sql", "--live", "--json", "select count(*) AS n from raw.records")
    assert json.loads(output) == {"n": 2}  # nothing of the folder was kept
    code, output, _ = invoke(warehouse, "doctor")
    assert code == 0 and "unloaded runs" in output  # the folder is waiting, data tests still pass
    load_without_tests(warehouse, leaked)  # what `load` used to do: now every later build fails …
    assert invoke(warehouse, "doctor")[0] == 1  # … and the doctor says so
    failing = [f for f in doctor(warehouse) if f.check == "data tests"]
    assert failing[0].level == "error" and "no_personal_id_numbers_in_marts (" in failing[0].message


def _suggested_commands(texts: list[str]) -> list[str]:
    samples = {"<folder>": "data/runs/x", "<name>": "miit_licences", "<source>": "miit_licences",
               "<backup>": "b.duckdb", "…": "select 1"}
    found = []
    for text in texts:
        for command in re.findall(r"`(creditwatch [^`]+)`", text):
            for placeholder, sample in samples.items():
                command = command.replace(placeholder, sample)
            found.append(command)
    return found


def _parse(argv: list[str]) -> None:
    """Parse `argv` through the CLI's click commands (typer) without running anything; raise on a bad one."""
    command = typer.main.get_command(app)  # typer's own click: its classes are not the click package's
    ctx = command.make_context("creditwatch", argv)
    while hasattr(command, "resolve_command"):  # a group: parse on into the subcommand
        rest = [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])), *ctx.args]
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)


def test_every_command_the_doctor_and_errors_suggest_parses(warehouse: Path) -> None:
    from flows.stages import doctor
    from spiders.captcha import BROWSER_COMMAND

    root = Path(__file__).parents[1]
    # Where fixes and error messages are written (docstrings elsewhere mention commands, not full calls).
    texts = [(root / f).read_text("utf-8").replace('\\"', '"') for f in (
        "warehouse/maintenance.py", "warehouse/db.py", "warehouse/snapshot.py", "flows/stages.py", "flows/alerts.py")]
    texts += [f.fix for f in doctor(warehouse)] + [f"`{BROWSER_COMMAND.format(source='miit_licences')}`"]
    commands = _suggested_commands(texts)
    assert "creditwatch load data/runs/x" in commands and "creditwatch crawl miit_licences" in commands
    for command in commands:
        _parse(shlex.split(command)[1:])
    for wrong in ("creditwatch load --run data/runs/x", "creditwatch crawl --source miit_licences",
                  "creditwatch nosuchcommand", "creditwatch alerts list --nosuchoption"):  # the parser does refuse
        with pytest.raises(Exception, match="No such") as refused:
            _parse(shlex.split(wrong)[1:])
        assert type(refused.value).__name__ in ("NoSuchOption", "UsageError")


# -------------------------------------------------------------------------------------------- 5. purge

RAW_ID = "110101198001010010"


def _court(name: str, id_number: str | None = None) -> dict:
    return {"case_code": f"(2024)京01执{len(name)}号", "subject_name": name, "subject_id_number": id_number,
            "court": "北京市第一中级人民法院", "published_on": "2024-06-01"}


def _stall_penalty() -> dict:  # a 个体工商户's penalty decided in 2019: shown 3 years, expired long ago
    return {"decision_no": "京海市监罚〔2019〕77号", "subject_name": "王五烧烤店", "subject_uscc": "92110108MA01ABCD1X",
            "decided_on": "2019-01-10", "authority": "北京市海淀区市场监督管理局", "penalty_kinds_text": "罚款",
            "fine_yuan": "5000", "content": "罚款5000元"}


def _evidence(folder: Path, source: str, pages: dict[str, bytes]) -> None:
    import gzip

    root = folder / "evidence"
    lines = []
    for name, body in pages.items():
        digest = hashlib.sha256(body).hexdigest()
        (root / digest[:2]).mkdir(parents=True, exist_ok=True)
        (root / digest[:2] / f"{digest}.gz").write_bytes(gzip.compress(body, mtime=0))
        lines.append(json.dumps({"url": f"http://replica/{name}", "sha256": digest}))
    (root / f"{source}.index.jsonl").write_text("\n".join(lines) + "\n", "utf-8")


def _scan(roots: list[Path], needles: list[str]) -> dict[str, list[str]]:
    """Every needle found in the bytes of any file under `roots` (gzip pages and parquet rows read too)."""
    import gzip

    found: dict[str, list[str]] = {}
    for root in roots:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if path.suffix == ".gz":
                data += gzip.decompress(data)
            if path.suffix == ".parquet":
                data += json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str).encode()
            for needle in needles:
                if needle.encode() in data:
                    found.setdefault(needle, []).append(str(path))
    return found


def test_purge_leaves_no_purged_name_or_id_in_any_byte(tmp_path: Path) -> None:
    from flows.stages import export, purge

    warehouse = tmp_path / "data" / "creditwatch.duckdb"
    runs = warehouse.parent / "runs"
    old = "2025-01-01T06:00:00+00:00"
    r1 = write_run(runs, "r1", "court_dishonest", {"p1": _court("李四", "1101**********1234"),
                                                  "p2": _court("孙八", "4401**********9012")},
                   finished_at=old, record_type="court_dishonest")
    write_run(runs, "r1", "miit_licences", {"L1": licence_fields(1)}, finished_at=old)
    load_and_build(warehouse, r1, as_of=AS_OF)
    # r2 (complete, March): 李四 is no longer shown, 孙八 still is. r3 (November, kept): 孙八 still shown;
    # 王五烧烤店's 2019 penalty is shown but its display period ran out in 2020 (expired by rule).
    r2 = write_run(runs, "r2", "court_dishonest", {"p2": _court("孙八", "4401**********9012")},
                   finished_at="2026-03-01T06:00:00+00:00", record_type="court_dishonest")
    load_and_build(warehouse, r2, as_of=AS_OF)
    recent = "2026-11-01T06:00:00+00:00"
    r3 = write_run(runs, "r3", "court_dishonest", {"p2": _court("孙八", "4401**********9012")}, finished_at=recent,
                   record_type="court_dishonest")
    write_run(runs, "r3", "creditchina_penalties", {"京海市监罚〔2019〕77号": _stall_penalty()}, finished_at=recent,
              record_type="penalty")
    _evidence(r3, "creditchina_penalties", {"stall": f"<td>王五烧烤店</td><td>{RAW_ID}</td>".encode(),
                                            "other": "<td>测试1科技有限公司</td>".encode()})
    load_and_build(warehouse, r3, as_of=AS_OF)
    export(warehouse, tmp_path / "exports")
    roots = [warehouse, snapshot_path(warehouse), runs, tmp_path / "exports"]
    purged = ["李四", "王五烧烤店", RAW_ID]
    before = _scan(roots, purged)
    assert {"李四", "王五烧烤店", RAW_ID} <= set(before)  # the scan does see them before
    assert any(p.startswith(str(warehouse)) for p in before["王五烧烤店"])

    report = purge(warehouse, as_of=AS_OF, retention_days=180, dry_run=False)
    assert len(report.record_ids) == 2 and report.run_folders == ["r1", "r2"]
    assert _scan(roots, purged) == {}
    # What was not purged is all still there: the person still shown, the company, the other evidence page.
    assert set(_scan(roots, ["孙八", "测试1科技有限公司"])) == {"孙八", "测试1科技有限公司"}
    code, output, _ = invoke(warehouse, "sql", "--json", "select count(*) AS n from raw.records")
    assert code == 0 and json.loads(output) == {"n": 2}
    assert invoke(warehouse, "doctor")[0] == 0


# ------------------------------------------------------------------------------------------- 6. export


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_failed_export_leaves_the_previous_one_as_it_was(warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    import flows.stages
    from flows.stages import export

    out = tmp_path / "exports"
    first = export(warehouse, out, week="2026-W47")
    before = _tree(out)
    assert len(before) == len(first["files"]) and all(Path(f).exists() for f in first["files"])

    def half_written(con, path, *args, **kwargs):  # the workbook and CSVs are written, then the report dies
        path.write_text("<html>half", "utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(flows.stages, "write_report", half_written)
    with pytest.raises(OSError, match="disk full"):
        export(warehouse, out, week="2026-W47", lang="en")
    assert _tree(out) == before and [p.name for p in out.iterdir()] == ["2026-W47"]
    monkeypatch.undo()
    second = export(warehouse, out, week="2026-W47", lang="en")
    assert sorted(second["files"]) == sorted(first["files"]) and _tree(out) != before
    assert [p.name for p in out.iterdir()] == ["2026-W47"]


# ------------------------------------------------------------------------------------ 8. the small ones


def test_crawl_of_a_dead_replica_url_exits_non_zero(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens there. Only the licence list's first page is asked for.
    code, output, _ = invoke(tmp_path / "data" / "creditwatch.duckdb", "crawl", "miit_licences",
                             "--replica-url", "http://127.0.0.1:9", "--solver", "replica")
    assert code == 1 and "INCOMPLETE" in output


INGEST_HEADER = "行政相对人名称,行政处罚决定书文号,违法事实,处罚决定日期,处罚机关\n"


@pytest.mark.parametrize("content", [b"", INGEST_HEADER.encode("utf-8"), b"\n\n"], ids=["empty", "header", "blank"])
def test_an_empty_ingest_file_is_refused_and_changes_nothing(warehouse: Path, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "penalties.csv"
    path.write_bytes(content)
    before = digest(warehouse)
    code, _, error = invoke(warehouse, "ingest", "creditchina_penalties", str(path))
    assert code != 0 and "no data rows" in str(error) and "nothing was loaded" in str(error)
    runs = warehouse.parent / "runs"
    assert not (runs.exists() and any(runs.iterdir())) and digest(warehouse) == before


def test_ingest_keeps_a_quoted_line_break_and_shows_the_registry_url(warehouse: Path, tmp_path: Path) -> None:
    path = tmp_path / "penalties.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:  # GB18030, as official exports often are
        csv.writer(handle).writerows([
            INGEST_HEADER.strip().split(","),
            ["测试1科技有限公司", "京通管罚〔2026〕9号", "第一行\n第二行", "2026-05-01", "北京市通信管理局"],
            ["测试2科技有限公司", "京通管罚〔2026〕10号", "一行", "2026-05-02", "北京市通信管理局"]])
    code, output, error = invoke(warehouse, "ingest", "creditchina_penalties", str(path))
    assert code == 0, error
    code, output, _ = invoke(warehouse, "sql", "--json", "select natural_key, url, raw_json ->> '违法事实' AS facts "
                             "from raw.records where source = 'creditchina_penalties' order by 1")
    rows = [json.loads(line) for line in output.splitlines()]
    assert [r["facts"] for r in rows] == ["一行", "第一行\n第二行"]  # both rows, the break inside the cell kept
    assert {r["url"] for r in rows} == {"https://public.creditchina.gov.cn/"}  # not a local file path
    code, _, error = invoke(warehouse, "export", "--out", str(tmp_path / "exports"))
    assert code == 0, error
    shown = b"".join(p.read_bytes() for p in (tmp_path / "exports").rglob("*.csv"))
    assert b"https://public.creditchina.gov.cn/" in shown and str(tmp_path).encode() not in shown
    assert b"file:" not in shown and b"penalties.csv" not in shown


def test_link_out_refuses_an_input_and_escapes_formula_cells(tmp_path: Path) -> None:
    ops = tmp_path / "ops.csv"
    ops.write_text("operator_id,name,uscc,aliases\n=HYPERLINK(1),北京云启科技有限公司,,\n", "utf-8")
    recs = tmp_path / "recs.csv"
    recs.write_text("record_id,name,uscc\n@r1,北京云启科技有限公司,\n+r2,上海别家有限公司,\n", "gb18030")
    before = digest(recs)
    code, _, error = invoke(tmp_path / "w.duckdb", "link", "--operators", str(ops), "--records", str(recs),
                            "--out", str(recs))
    assert code != 0 and "--out is the input file" in str(error) and digest(recs) == before
    code, _, error = invoke(tmp_path / "w.duckdb", "link", "--operators", str(ops), "--records", str(recs),
                            "--out", str(tmp_path / "links.csv"))
    assert code == 0, error
    rows = list(csv.DictReader((tmp_path / "links.csv").open(encoding="utf-8")))
    assert [r["record_id"] for r in rows] == ["'@r1", "'+r2"] and rows[0]["operator_id"] == "'=HYPERLINK(1)"


def test_facts_are_read_in_gb18030_like_ingest(warehouse: Path, tmp_path: Path) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_text("reference,obligations_done_date,corrected_date,note\nL1,2026-06-01,,已缴纳罚款\n", "gb18030")
    code, _, error = invoke(warehouse, "facts", str(facts), "--as-of", AS_OF.isoformat())
    assert code == 0, error
    code, output, _ = invoke(warehouse, "sql", "--json", "select note from ops.compliance_facts")
    assert json.loads(output) == {"note": "已缴纳罚款"}


def test_warehouse_snapshot_backup_and_evidence_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from pipelines.evidence import EvidenceArchive
    from warehouse.maintenance import backup

    old = os.umask(0)  # the most permissive umask: without care, files come out 0666 and folders 0777
    try:
        warehouse = tmp_path / "data" / "creditwatch.duckdb"
        load_and_build(warehouse, write_run(tmp_path / "r", "r1", "miit_licences", {"L1": licence_fields(1)}),
                       as_of=AS_OF)
        saved = backup(warehouse, tmp_path / "backups")
        crawler = SimpleNamespace(signals=SimpleNamespace(connect=lambda *a, **k: None))
        archive = EvidenceArchive(crawler, tmp_path / "run" / "evidence")
        archive.spider_opened(SimpleNamespace(name="miit_licences"))
        archive.response_received(SimpleNamespace(body=b"<td>page</td>", url="http://x/", status=200),
                                  SimpleNamespace(method="GET", body=b""), None)
    finally:
        os.umask(old)
    modes = {p: p.stat().st_mode & 0o777 for p in (warehouse, warehouse.parent, snapshot_path(warehouse),
                                                     snapshot_path(warehouse).parent, saved)}
    modes |= {p: p.stat().st_mode & 0o777 for p in (tmp_path / "run" / "evidence").rglob("*")}
    assert len(modes) == 8
    assert all(mode == (0o700 if path.is_dir() else 0o600) for path, mode in modes.items()), modes


def test_ctrl_c_during_run_stops_at_once_with_one_line(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    # The handler `run` installs, in a process that stands for a run paused after its crawl, with a child
    # (a spider, Prefect's server) in its group. A real `run --demo` took 80 s to stop here before.
    script = ("import subprocess, sys, time; from flows.cli import stop_at_once_on_interrupt\n"
              "stop_at_once_on_interrupt()\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "print(child.pid, flush=True); time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True, cwd=Path(__file__).parents[1])
    try:
        child = int(process.stdout.readline())
        started = time.monotonic()
        os.kill(process.pid, signal.SIGINT)  # Ctrl-C
        _, stderr = process.communicate(timeout=10)
        assert time.monotonic() - started < 3 and process.returncode == 130
        assert stderr.strip().count("\n") == 0 and stderr.startswith("Interrupted: nothing half-written")
        time.sleep(0.3)
        stat = Path(f"/proc/{child}/stat")
        assert not stat.exists() or stat.read_text().split(") ")[1][0] in "ZX"  # the child was stopped too
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_manifest_never_carries_an_id_number(tmp_path: Path) -> None:
    from pipelines.run_folder import Manifest, write_manifest

    folder = RunFolder(tmp_path / "run")
    write_manifest(folder, Manifest(run_id="run", source="court_dishonest", started_at=None, finished_at="now",
                                    complete=False, base_url=f"http://x/?cardNum={RAW_ID}",
                                    incomplete_reasons=[f"page failed: http://x/search?cardNum={RAW_ID}"]))
    text = folder.manifest("court_dishonest").read_text("utf-8")
    assert RAW_ID not in text and "110*************10" in text
