"""The layered models build in order, their data tests guard them, and a failure keeps the old build."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.helpers import licence_fields, write_run
from transforms import build as build_module
from transforms.build import DataTestFailure, build, discover, select
from warehouse.db import connect
from warehouse.load import load_run


def test_models_are_ordered_by_what_they_read() -> None:
    order = select(discover(), None)
    assert order.index("staging.stg_miit__licences") < order.index("core.licences")
    assert (
        order.index("core.licences") < order.index("core.licensed_operators") < order.index("marts.operator_licences")
    )
    assert order.index("core.record_links") < order.index("marts.operator_licences")


def test_selecting_a_model_builds_only_it_and_its_upstream() -> None:
    chosen = select(discover(), ["core.licences"])
    # core reads the interface unions; each union reads the sources' interface models, which read staging.
    assert set(chosen) == {"staging.stg_miit__licences", "staging.stg_miit__licence_business_types",
                           "staging.miit_licences__licences", "staging.miit_licences__licence_business_types",
                           "staging.licences_unioned", "staging.licence_business_types_unioned", "core.licences"}
    with pytest.raises(ValueError, match="unknown model"):
        select(discover(), ["core.nope"])


def test_operators_and_expiry_from_licences(tmp_path: Path, warehouse: Path) -> None:
    con = connect(warehouse)
    same_company = "北京云启科技有限公司"
    load_run(
        con,
        write_run(
            tmp_path,
            "r1",
            "miit_licences",
            {
                "a": licence_fields(1, same_company, expires="2027-01-31"),
                "b": licence_fields(2, same_company, expires="2026-12-31"),
                "c": licence_fields(3, "上海星辰网络科技有限公司"),
            },
        ),
    )
    build(con, as_of=date(2026, 11, 23))
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT name, licence_count, next_licence_expiry, days_to_expiry, is_cdn FROM marts.operator_licences"
        ).fetchall()
    }
    assert rows["北京云启科技有限公司"] == (2, date(2026, 12, 31), 38, True)
    assert rows["上海星辰网络科技有限公司"][0] == 1


def test_a_failing_data_test_rolls_the_build_back(tmp_path: Path, warehouse: Path, monkeypatch) -> None:
    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1)}))
    build(con, as_of=date(2026, 11, 23))
    load_run(con, write_run(tmp_path, "r2", "miit_licences", {"a": licence_fields(1), "b": licence_fields(2)}))
    failing = tmp_path / "tests"
    failing.mkdir()
    (failing / "always_fails.sql").write_text("SELECT 1 AS row_that_must_not_exist")
    monkeypatch.setattr(build_module, "DATA_TESTS", failing)
    with pytest.raises(DataTestFailure, match="always_fails"):
        build(con, as_of=date(2026, 11, 23))
    assert con.execute("SELECT count(*) FROM core.licences").fetchone()[0] == 1  # the previous build


def test_the_data_tests_catch_a_record_or_a_version_held_twice(tmp_path: Path, warehouse: Path) -> None:
    """raw.records and raw.record_versions have no primary keys (migration 009): the data tests stand guard."""
    con = connect(warehouse)
    load_run(con, write_run(tmp_path, "r1", "miit_licences", {"a": licence_fields(1), "b": licence_fields(2)}))
    build(con, as_of=date(2026, 11, 23))  # its data tests pass
    con.execute("INSERT INTO raw.records SELECT * FROM raw.records WHERE natural_key = 'a'")
    con.execute("INSERT INTO raw.record_versions SELECT * FROM raw.record_versions LIMIT 1")
    assert build_module.run_data_tests(con) == {"raw_records_unique": 1, "raw_record_versions_unique": 1}
