"""The linker is incremental (issue 18): a build decides only the (name, USCC) pairs it has not decided, or
whose decision may read a lookup key a changed operator holds, and gives the same core.record_links as a full rebuild
(`creditwatch transform --full`) after any sequence of weeks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replica.world import uscc_check_char
from tests.helpers import licence_fields, write_run
from transforms.build import build
from transforms.link.index import MAX_BUCKET as DEFAULT_CAP
from warehouse.db import connect
from warehouse.load import load_run

AS_OF = date(2026, 11, 23)
OPERATORS = ["北京云启科技有限公司", "上海星辰网络科技有限公司", "深圳数智云计算有限公司", "杭州青山数据科技有限公司",
             "广州星辰网络科技有限公司"]  # the last shares 上海星辰's trade-name buckets
# Subjects a registry may name: operators exactly, a branch, a one-character slip, strangers.
SUBJECTS = [*OPERATORS, "北京云启科技有限公司上海分公司", "上海星晨网络科技有限公司", "广州无关贸易有限公司",
            "深圳数智云计算有限公司", "成都某某餐饮店"]


def uscc(n: int) -> str:
    first17 = f"9111000000000{n:04d}"[:17]
    return first17 + uscc_check_char(first17)


def penalty(subject: str, number: str, with_code: bool) -> dict:
    code = uscc(OPERATORS.index(subject)) if with_code and subject in OPERATORS else None
    return {"decision_no": number, "subject_name": subject, "subject_uscc": code, "penalty_kinds_text": "罚款",
            "content": "罚款5000元", "fine_yuan": "5000", "decided_on": "2026-05-01", "published_on": "2026-05-01",
            "authority": "北京市通信管理局", "domain": "telecom"}


# An operator renamed (its licence now carries another name): one a subject names with a slip, one near
# another operator's trade name, one a branch's parent.
RENAMES = {1: "上海星晨网络科技有限公司", 2: "深圳数启云计算有限公司", 3: "北京云启科技有限公司上海分公司"}

week = st.tuples(
    st.integers(min_value=2, max_value=len(OPERATORS)),  # operators licensed this week
    st.sets(st.sampled_from(sorted(RENAMES))),  # operators renamed this week
    st.lists(st.tuples(st.sampled_from(SUBJECTS), st.booleans()), min_size=1, max_size=8),  # penalties shown
)


def links(con) -> list[tuple]:
    return con.execute("SELECT record_id, operator_id, status, method, round(score, 6), is_branch, evidence "
                       "FROM core.record_links ORDER BY record_id").fetchall()


def licences_of(licensed: int, renamed: set[int] | frozenset[int] = frozenset()) -> dict[str, dict]:
    return {f"l{i}": licence_fields(i, RENAMES[i] if i in renamed else name) | {"uscc": uscc(i)}
            for i, name in enumerate(OPERATORS[:licensed])}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(weeks=st.lists(week, min_size=2, max_size=4), cap=st.sampled_from([None, 1, 2]))
def test_incremental_links_equal_a_full_rebuild(tmp_path_factory, monkeypatch, weeks: list, cap: int | None) -> None:
    import transforms.link.index

    # A small bucket cap makes the few names here fill buckets over it, as common trade names do at scale:
    # a change inside a bucket over the cap before and after is not a change.
    monkeypatch.setattr(transforms.link.index, "MAX_BUCKET", cap or DEFAULT_CAP)
    root: Path = tmp_path_factory.mktemp("incremental")
    con = connect(root / "w.duckdb")
    try:
        for n, (licensed, renamed, shown) in enumerate(weeks, 1):
            finished = f"2026-11-{n + 1:02d}T06:00:00+00:00"
            write_run(root / "runs", f"r{n}", "miit_licences", licences_of(licensed, renamed), finished_at=finished)
            write_run(root / "runs", f"r{n}", "creditchina_penalties",
                      {f"P{i}": penalty(subject, f"京罚〔2026〕{i}号", code)
                       for i, (subject, code) in enumerate(shown)},
                      finished_at=finished, record_type="penalty")
            load_run(con, root / "runs" / f"r{n}")
            build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
            incremental = links(con)
            kept = con.execute("SELECT count(*) FROM cache.record_pair_links").fetchone()[0]
            build(con, targets=["core.record_links"], as_of=AS_OF, tests=False, full=True)
            assert links(con) == incremental, f"week {n}"
            assert kept == con.execute("SELECT count(*) FROM cache.record_pair_links").fetchone()[0]
    finally:
        con.close()


def count_decided(monkeypatch) -> list[int]:
    """The number of pairs each call of the linker (what the model calls) decides, as a list that grows."""
    import transforms.link.records

    sizes: list[int] = []
    real = transforms.link.records.link_validated

    def counting(index, batch, analyst=None, usccs_checked=None):
        sizes.append(len(batch.ids))
        return real(index, batch, analyst, usccs_checked)

    monkeypatch.setattr(transforms.link.records, "link_validated", counting)
    return sizes


def test_a_build_decides_only_pairs_it_has_not_decided(tmp_path: Path, monkeypatch) -> None:
    decided = count_decided(monkeypatch)
    con = connect(tmp_path / "w.duckdb")
    try:
        licences = {f"l{i}": licence_fields(i, name) | {"uscc": uscc(i)} for i, name in enumerate(OPERATORS)}
        for n, subjects in enumerate([SUBJECTS[:4], SUBJECTS[:6]], 1):
            write_run(tmp_path / "runs", f"r{n}", "miit_licences", licences, finished_at=f"2026-11-0{n}T06:00:00Z")
            write_run(tmp_path / "runs", f"r{n}", "creditchina_penalties",
                      {f"P{i}": penalty(s, f"京罚〔2026〕{i}号", False) for i, s in enumerate(subjects)},
                      finished_at=f"2026-11-0{n}T06:00:00Z", record_type="penalty")
            load_run(con, tmp_path / "runs" / f"r{n}")
            build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
        # week 1: 4 penalty subjects + 4 licence holders; week 2: only the 2 new penalty subjects
        assert decided[-1] == 2 and decided[0] > 2
        build(con, targets=["core.record_links"], as_of=AS_OF, tests=False, full=True)
        assert decided[-1] == decided[0] + 2  # a full rebuild decides every pair again
    finally:
        con.close()


def test_pairs_decided_in_batches_are_decided_the_same(tmp_path: Path, monkeypatch) -> None:
    import transforms.link.records

    con = connect(tmp_path / "w.duckdb")
    try:
        write_run(tmp_path / "runs", "r1", "miit_licences", licences_of(len(OPERATORS)))
        write_run(tmp_path / "runs", "r1", "creditchina_penalties",
                  {f"P{i}": penalty(s, f"京罚〔2026〕{i}号", i % 2 == 0) for i, s in enumerate(SUBJECTS)},
                  record_type="penalty")
        load_run(con, tmp_path / "runs" / "r1")
        build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
        whole = links(con)
        sizes = count_decided(monkeypatch)
        monkeypatch.setattr(transforms.link.records, "PAIR_BATCH", 3)
        build(con, targets=["core.record_links"], as_of=AS_OF, tests=False, full=True)
        assert len(sizes) > 2 and max(sizes) <= 3
        assert links(con) == whole
    finally:
        con.close()


def test_a_changed_operator_re_decides_only_the_pairs_that_read_its_keys(tmp_path: Path, monkeypatch) -> None:
    import transforms.link.records

    decided: list[set[str]] = []
    operators: list[list[str]] = []
    real = transforms.link.records.link_validated

    def counting(index, batch, analyst=None, usccs_checked=None):
        decided.append({batch.names[code] for code in batch.name_codes})
        operators.append(sorted(index.uscc_of))
        return real(index, batch, analyst, usccs_checked)

    monkeypatch.setattr(transforms.link.records, "link_validated", counting)
    con = connect(tmp_path / "w.duckdb")
    try:
        for n, renamed in enumerate([set(), {2}], 1):  # week 2: 深圳数智云计算 is renamed 深圳数启云计算
            write_run(tmp_path / "runs", f"r{n}", "miit_licences", licences_of(len(OPERATORS), renamed),
                      finished_at=f"2026-11-0{n}T06:00:00Z")
            write_run(tmp_path / "runs", f"r{n}", "creditchina_penalties",
                      {f"P{i}": penalty(s, f"京罚〔2026〕{i}号", False) for i, s in enumerate(SUBJECTS)},
                      finished_at=f"2026-11-0{n}T06:00:00Z", record_type="penalty")
            load_run(con, tmp_path / "runs" / f"r{n}")
            build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
            incremental = links(con)
        # only the subject named like the old name (twice in SUBJECTS: one pair); not the 8 others
        assert decided[-1] == {"深圳数智云计算有限公司"}
        assert "北京云启科技有限公司" in decided[0] and len(operators[0]) == len(OPERATORS)
        # decided against only the operator holding one of its keys: the renamed one (its USCC is unchanged)
        assert operators[-1] == [uscc(2)]
        build(con, targets=["core.record_links"], as_of=AS_OF, tests=False, full=True)
        assert links(con) == incremental
    finally:
        con.close()


def test_a_bucket_that_falls_under_the_cap_is_a_change(tmp_path: Path, monkeypatch) -> None:
    # Cap 1: 上海星辰's and 广州星辰's shared trade-name buckets are skipped while both are licensed. When
    # 广州星辰 goes, they answer again, so the slip 上海星晨 finds 上海星辰: its cached decision must go.
    import transforms.link.index

    monkeypatch.setattr(transforms.link.index, "MAX_BUCKET", 1)
    con = connect(tmp_path / "w.duckdb")
    slip = "上海星晨网络科技有限公司"
    found = []
    try:
        for n, licensed in enumerate([5, 4], 1):
            write_run(tmp_path / "runs", f"r{n}", "miit_licences", licences_of(licensed),
                      finished_at=f"2026-11-0{n}T06:00:00Z")
            write_run(tmp_path / "runs", f"r{n}", "creditchina_penalties",
                      {"P0": penalty(slip, "京罚〔2026〕0号", False)},
                      finished_at=f"2026-11-0{n}T06:00:00Z", record_type="penalty")
            load_run(con, tmp_path / "runs" / f"r{n}")
            build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
            found.append(links(con))
        assert found[0] != found[1]  # the scenario changes the answer (here: "blocking_capped" goes)
        build(con, targets=["core.record_links"], as_of=AS_OF, tests=False, full=True)
        assert links(con) == found[1]
    finally:
        con.close()


def linked_penalties(tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, list]:
    """A warehouse with the operators' licences and a penalty per subject, its links built; and those links."""
    con = connect(tmp_path / "w.duckdb")
    write_run(tmp_path / "runs", "r1", "miit_licences", licences_of(len(OPERATORS)))
    write_run(tmp_path / "runs", "r1", "creditchina_penalties",
              {f"P{i}": penalty(s, f"京罚〔2026〕{i}号", False) for i, s in enumerate(SUBJECTS)},
              record_type="penalty")
    load_run(con, tmp_path / "runs" / "r1")
    build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
    return con, links(con)


def test_a_cache_from_before_lookup_keys_were_kept_is_started_again(tmp_path: Path) -> None:
    con, expected = linked_penalties(tmp_path)
    try:
        con.execute("ALTER TABLE cache.record_pair_links DROP COLUMN lookup_keys")
        con.execute("UPDATE cache.record_pair_links SET status = 'stale'")
        con.execute("CREATE TABLE cache.record_pair_links_digest (digest VARCHAR)")
        build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
        assert links(con) == expected
        assert not con.execute("SELECT count(*) FROM information_schema.tables "
                               "WHERE table_name = 'record_pair_links_digest'").fetchone()[0]
    finally:
        con.close()


def test_a_pair_cache_keyed_on_pair_key_is_started_again_without_the_key(tmp_path: Path) -> None:
    """The pair cache has no primary key (its index took ~300 MB at 10M records); one made with it, by an earlier
    version, is dropped and its pairs decided again, to the same links."""
    from transforms.models.core.record_links import PAIRS

    con, expected = linked_penalties(tmp_path)
    try:
        keyed = "SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' " \
                "AND schema_name = 'cache' AND table_name = 'record_pair_links'"
        assert con.execute(keyed).fetchone()[0] == 0
        con.execute(f"CREATE OR REPLACE TABLE {PAIRS}_old AS SELECT * FROM {PAIRS}")
        con.execute(f"DROP TABLE {PAIRS}")
        con.execute(f"CREATE TABLE {PAIRS} (pair_key VARCHAR PRIMARY KEY, operator_id VARCHAR, status VARCHAR, "
                    "method VARCHAR, score DOUBLE, is_branch BOOLEAN, evidence VARCHAR, lookup_keys VARCHAR[])")
        con.execute(f"INSERT INTO {PAIRS} SELECT * REPLACE ('stale' AS status) FROM {PAIRS}_old")
        build(con, targets=["core.record_links"], as_of=AS_OF, tests=False)
        assert links(con) == expected  # not the 'stale' decisions the keyed cache held
        assert con.execute(keyed).fetchone()[0] == 0
    finally:
        con.close()


def test_transform_full_on_the_command_line(tmp_path: Path) -> None:
    """`creditwatch transform --full` empties the pair cache and decides every pair again."""
    from flows import stages

    warehouse = tmp_path / "data" / "w.duckdb"
    con = connect(warehouse)
    licences = {f"l{i}": licence_fields(i, name) | {"uscc": uscc(i)} for i, name in enumerate(OPERATORS)}
    write_run(tmp_path / "runs", "r1", "miit_licences", licences)
    write_run(tmp_path / "runs", "r1", "creditchina_penalties",
              {f"P{i}": penalty(s, f"京罚〔2026〕{i}号", False) for i, s in enumerate(SUBJECTS)}, record_type="penalty")
    load_run(con, tmp_path / "runs" / "r1")
    con.close()
    first = stages.transform(warehouse, as_of=AS_OF)
    again = stages.transform(warehouse, as_of=AS_OF, full=True)
    assert first["rows"]["core.record_links"] == again["rows"]["core.record_links"] > 0
