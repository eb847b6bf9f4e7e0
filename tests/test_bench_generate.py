"""bench.generate: synthetic run folders load and build like a crawl's, and next week differs by 5 %."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from stdnum.cn import uscc as stdnum_uscc

from bench.generate import (
    ADDED,
    AS_OF,
    CHANGED,
    REMOVED,
    GenerateError,
    Scale,
    family_sizes,
    generate,
    usccs,
    week_rows,
)
from flows.stages import apply_run
from pipelines.run_folder import RECORD_SCHEMA, RunFolder
from spiders.source import item_fields, sources
from warehouse.db import connect

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = {t: spec for name in sources() for t, spec in item_fields(name).items()}

TINY = Scale(operators=300, records=6_000, crawl_operators=0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate(tmp_path_factory.mktemp("bench"), TINY, seed=7)


def records(run_dir: Path) -> list[dict]:
    folder = RunFolder(run_dir)
    rows = []
    for manifest in folder.manifests():
        table = pq.read_table(folder.records(manifest.source))
        assert table.schema.equals(RECORD_SCHEMA), manifest.source
        assert manifest.complete and manifest.items == table.num_rows
        rows += table.to_pylist()
    return rows


def test_every_record_family_is_written_with_its_required_fields(runs: tuple[Path, Path]) -> None:
    rows = records(runs[0])
    assert Counter(r["record_type"] for r in rows).keys() == SCHEMAS.keys()
    assert len({r["record_id"] for r in rows}) == len(rows) == sum(family_sizes(TINY).values())
    for row in rows:
        fields = json.loads(row["fields_json"])
        json.loads(row["raw_json"])
        missing = [name for name, spec in SCHEMAS[row["record_type"]].items()
                   if spec.required and fields.get(name) in (None, "", [])]
        assert not missing, (row["record_type"], row["natural_key"], missing)
        assert len(row["record_id"]) == 20 and len(row["content_hash"]) == 64


def test_published_usccs_are_valid_or_absent_and_operators_carry_valid_ones(runs: tuple[Path, Path]) -> None:
    for row in records(runs[0]):
        fields = json.loads(row["fields_json"])
        code = fields.get("uscc") or fields.get("subject_uscc")
        if code is not None:
            assert stdnum_uscc.is_valid(code), (row["natural_key"], code)
    codes = usccs(3, np.arange(500), "t").to_pylist()
    assert len(set(codes)) == 500 and all(stdnum_uscc.is_valid(c) for c in codes)


def test_the_same_seed_gives_the_same_rows(tmp_path: Path, runs: tuple[Path, Path]) -> None:
    again = generate(tmp_path, TINY, seed=7)[0]
    other = generate(tmp_path / "other", TINY, seed=8)[0]
    source = "creditchina_penalties.parquet"
    assert pq.read_table(again / source).equals(pq.read_table(runs[0] / source))
    assert not pq.read_table(other / source).equals(pq.read_table(runs[0] / source))


def test_next_week_differs_by_five_percent_and_loads_and_builds(tmp_path: Path, runs: tuple[Path, Path]) -> None:
    expected = Counter()
    linked = 0  # credit records (current and removed) are linked; licences and annual-report facts are not
    for (source, record_type), size in family_sizes(TINY).items():
        rows, revision = week_rows(7, size, 2)
        kept = rows < size
        new = 0 if record_type == "licence" else int((~kept).sum())
        expected["removed"] += size - int(kept.sum())
        expected["changed"] += int(revision.sum())
        expected["new"] += new
        if (REPO / "spiders" / source / "models" / "credit_records.sql").exists():
            linked += size + new
    total = sum(family_sizes(TINY).values())
    assert abs(sum(expected.values()) / total - (CHANGED + REMOVED + ADDED)) < 0.02

    con = connect(tmp_path / "wh.duckdb")
    first, built = apply_run(con, runs[0], as_of=AS_OF - timedelta(days=7))
    assert first.new == total and built.rows["marts.operator_risk"] > 0
    second, built = apply_run(con, runs[1], as_of=AS_OF)
    current = con.execute("SELECT count(*) FROM raw.records WHERE removed_at IS NULL").fetchone()[0]
    con.close()
    assert (second.new, second.changed, second.removed) == (expected["new"], expected["changed"], expected["removed"])
    assert current == total - expected["removed"] + expected["new"]
    assert built.rows["core.record_links"] == linked


def test_an_unknown_scale_or_a_world_too_small_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GenerateError, match="unknown scale '5m'"):
        generate(tmp_path, "5m")
    with pytest.raises(GenerateError, match="at least 10 operators"):
        generate(tmp_path, Scale(operators=5, records=100, crawl_operators=0))
