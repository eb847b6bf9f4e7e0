"""A crawl of the replica's MIIT licences, faults on, equals the replica's ground truth exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.stages import CrawlError, crawl_source
from pipelines.run_folder import RunFolder
from replica.server import Replica
from replica.world import World


@pytest.fixture(scope="module")
def crawled(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-test"
    crawl_source("miit_licences", run_dir, replica_url=replica.base_url, solver="replica")
    return RunFolder(run_dir)


def test_every_licence_once_and_the_malformed_one_quarantined(crawled: RunFolder, world: World) -> None:
    truth = world.ground_truth()["miit_licences"]
    records = pq.read_table(crawled.records("miit_licences")).to_pylist()
    keys = [r["natural_key"] for r in records]
    assert len(keys) == len(set(keys))
    assert set(keys) == truth["records"]
    quarantined = pq.read_table(crawled.quarantine("miit_licences")).to_pylist()
    assert {q["natural_key"] for q in quarantined} == set(truth["quarantined"])
    assert all(q["field"] == "licence_no" and q["reason"] for q in quarantined)


def test_manifest_says_complete_and_counts_the_faults(crawled: RunFolder, replica: Replica) -> None:
    manifest = json.loads(crawled.manifest("miit_licences").read_text("utf-8"))
    assert manifest["complete"], manifest["incomplete_reasons"]
    assert manifest["browser_session"] is False
    assert manifest["items"] + manifest["quarantined"] == len(replica.world.licences())
    assert manifest["retries"] > 0  # the replica injected faults and the crawl recovered from them


def test_fields_are_typed_and_carry_the_uscc(crawled: RunFolder, world: World) -> None:
    by_lic = {lic.lic_id: (company, lic) for company, lic in world.licences()}
    for row in pq.read_table(crawled.records("miit_licences")).to_pylist():
        fields = json.loads(row["fields_json"])
        company, lic = by_lic[row["natural_key"]]
        assert fields["uscc"] == company.uscc
        assert fields["licence_no"] == lic.licence_no
        assert [t["expires_on"] for t in fields["business_types"]] == [
            t.expires_on.isoformat() for t in lic.business_types
        ]


def test_evidence_is_archived_with_an_index(crawled: RunFolder) -> None:
    index = (crawled.path / "evidence" / "miit_licences.index.jsonl").read_text("utf-8").splitlines()
    entries = [json.loads(line) for line in index]
    assert entries and all(len(e["sha256"]) == 64 for e in entries)
    first = entries[0]
    assert (crawled.path / "evidence" / first["sha256"][:2] / f"{first['sha256']}.gz").exists()


def test_an_unreachable_site_is_incomplete(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens there; every request fails after its retries.
    manifest = crawl_source("miit_licences", tmp_path / "run", replica_url="http://127.0.0.1:9", solver="replica")
    assert manifest["complete"] is False
    assert any("page failed" in reason for reason in manifest["incomplete_reasons"])


def test_a_crashing_crawl_leaves_an_incomplete_manifest(tmp_path: Path) -> None:
    with pytest.raises(CrawlError):
        crawl_source(
            "miit_licences",
            tmp_path / "run",
            replica_url="http://127.0.0.1:9",
            settings={"ITEM_PIPELINES": {"no.such.Pipeline": 1}},
        )
    manifest = json.loads((tmp_path / "run" / "miit_licences.manifest.json").read_text("utf-8"))
    assert manifest["complete"] is False and manifest["finish_reason"] == "crashed"
