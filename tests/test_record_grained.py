"""Record-grained models are refreshed from the records that changed (transforms/refresh.py, issue 18) and give
the same tables, every core and marts table, as a full rebuild after any sequence of weeks."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import transforms.build
from replica.world import uscc_check_char
from tests.helpers import licence_fields, write_run
from transforms.build import build, discover
from transforms.refresh import MARK, RecordGrainError, check_reads
from warehouse.db import connect
from warehouse.load import load_run

AS_OF = date(2026, 11, 23)
GRAINED = {"core.credit_records", "core.subject_records", "core.record_provinces"}
OPERATORS = ["北京云启科技有限公司", "上海星辰网络科技有限公司", "深圳数智云计算有限公司"]
SUBJECTS = [*OPERATORS, "北京云启科技有限公司上海分公司", "广州无关贸易有限公司", "个体户王某"]
AUTHORITIES = ["北京市通信管理局", "深圳市市场监督管理局", "国家市场监督管理总局"]


def uscc(n: int, prefix: str = "91") -> str:
    first17 = f"{prefix}11000000000{n:04d}"[:17]
    return first17 + uscc_check_char(first17)


def penalty(subject: str, authority: str, fine: int, kinds: str) -> dict:
    code = uscc(SUBJECTS.index(subject), "92" if subject.startswith("个体户") else "91")
    return {"decision_no": f"罚{fine}", "subject_name": subject, "subject_uscc": code, "penalty_kinds_text": kinds,
            "content": f"罚款{fine}元", "fine_yuan": str(fine), "decided_on": "2026-05-01",
            "published_on": "2026-05-02", "authority": authority, "domain": "telecom"}


def listing(subject: str, removed_on: str | None) -> dict:
    return {"subject_name": subject, "subject_uscc": None, "subject_uscc_raw": "", "reason": "未按规定报送年度报告",
            "listed_on": "2025-07-01", "authority": "北京市朝阳区市场监督管理局",
            "removal_reason": "补报年度报告" if removed_on else None, "removed_on": removed_on,
            "removal_authority": "北京市朝阳区市场监督管理局" if removed_on else None}


# A week shows some records, each at a revision: the same revision as the week before is an unchanged record
# (only last_seen_at moves), another is a changed one; a record not shown is removed, shown again is back.
week = st.tuples(
    st.dictionaries(st.sampled_from(range(6)), st.integers(0, 1), max_size=6),  # penalties shown
    st.dictionaries(st.sampled_from(range(4)), st.integers(0, 1), max_size=4),  # abnormal-operation listings
    st.booleans(),  # the penalty crawl ended complete (an incomplete one removes nothing)
)


def penalty_at(key: int, revision: int) -> dict:
    return penalty(SUBJECTS[key], AUTHORITIES[key % len(AUTHORITIES)], [500, 50000][revision],
                   ["罚款", "警告", "吊销许可证"][(key + revision) % 3])


def listing_at(key: int, revision: int) -> dict:
    return listing(SUBJECTS[-1 - key], [None, "2026-09-01"][revision])


def write_week(runs: Path, n: int, penalties: dict, listings: dict, complete: bool) -> Path:
    finished = f"2026-11-{n + 1:02d}T06:00:00+00:00"
    run_id = f"r{n}"
    write_run(runs, run_id, "miit_licences", {f"l{i}": licence_fields(i, name) | {"uscc": uscc(i)}
                                               for i, name in enumerate(OPERATORS)}, finished_at=finished)
    write_run(runs, run_id, "creditchina_penalties", {f"P{k}": penalty_at(k, v) for k, v in penalties.items()},
              complete=complete, finished_at=finished, record_type="penalty")
    write_run(runs, run_id, "gsxt_records", {f"A{k}": listing_at(k, v) for k, v in listings.items()},
              finished_at=finished, record_type="abnormal_operation")
    return runs / run_id


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    names = [f"{s}.{t}" for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('core', 'marts') AND table_type = 'BASE TABLE'").fetchall()]
    return {name: sorted(map(repr, con.execute(f"SELECT * FROM {name}").fetchall())) for name in sorted(names)}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(weeks=st.lists(week, min_size=2, max_size=3))
def test_refreshed_tables_equal_a_full_rebuild(tmp_path_factory, weeks: list) -> None:
    root: Path = tmp_path_factory.mktemp("grained")
    refreshed, full = connect(root / "refreshed.duckdb"), connect(root / "full.duckdb")
    try:
        for n, shown in enumerate(weeks, 1):
            run = write_week(root / "runs", n, *shown)
            as_of = AS_OF + timedelta(days=7 * n)
            for con in (refreshed, full):
                load_run(con, run)
            result = build(refreshed, as_of=as_of)
            build(full, as_of=as_of, full=True)
            assert set(result.refreshed) == (GRAINED if n > 1 else set()), f"week {n}"
            assert tables(refreshed) == tables(full), f"week {n}"
    finally:
        refreshed.close()
        full.close()


@pytest.fixture()
def two_weeks(tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, Path]:
    con = connect(tmp_path / "w.duckdb")
    load_run(con, write_week(tmp_path / "runs", 1, {0: 0, 5: 0}, {1: 0}, True))
    build(con, as_of=AS_OF)
    load_run(con, write_week(tmp_path / "runs", 2, {0: 1, 5: 0}, {1: 1}, True))
    yield con, tmp_path
    con.close()


def test_a_week_computes_again_only_the_records_that_changed(two_weeks) -> None:
    con, _ = two_weeks
    result = build(con, as_of=AS_OF)
    assert result.refreshed == dict.fromkeys(GRAINED, 2)  # P0's fine and A1's 移出 changed; P5 did not
    # and last_seen_at, which moves for every record seen, followed without computing P2 again
    assert con.execute("SELECT count(*) FROM core.credit_records c JOIN raw.records r USING (record_id) "
                       "WHERE c.last_seen_at <> r.last_seen_at").fetchall() == [(0,)]


def test_a_changed_variable_builds_the_models_that_read_it_whole(two_weeks, monkeypatch) -> None:
    con, _ = two_weeks
    build(con, as_of=AS_OF)
    monkeypatch.setattr(transforms.build, "PERSONAL_USCC_PREFIX", "91")  # every company now reads as personal
    result = build(con, as_of=AS_OF)
    assert "core.credit_records" not in result.refreshed
    assert con.execute("SELECT bool_and(is_personal) FROM core.credit_records "
                       "WHERE subject_uscc LIKE '91%'").fetchall() == [(True,)]


def test_a_build_of_some_targets_leaves_the_others_to_be_built_whole(two_weeks) -> None:
    con, tmp_path = two_weeks
    build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)  # record_provinces is not built
    result = build(con, as_of=AS_OF)
    assert set(result.refreshed) == {"core.credit_records", "core.subject_records"}
    after = tables(con)
    build(con, as_of=AS_OF, full=True)
    assert tables(con) == after


def test_a_record_grained_model_may_not_read_what_aggregates_records() -> None:
    models = discover()
    grained = {name for name, model in models.items() if model.record_grained}
    assert grained == GRAINED
    with pytest.raises(RecordGrainError, match="reads ops.compliance_facts"):
        check_reads("core.x", {"core.x": f"{MARK}\nSELECT record_id FROM ops.compliance_facts"}, set(models), grained)
    with pytest.raises(RecordGrainError, match="reads core.licensed_operators"):
        check_reads("core.x", {"core.x": f"{MARK}\nSELECT * FROM core.credit_records JOIN core.licensed_operators"},
                    set(models), grained)
