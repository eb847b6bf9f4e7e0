"""Crawling through a real Chromium session (scrapy-playwright with Debian's chromium, which .ci/run
installs): the same spider, the same ground truth. Fails, not skips, when the browser is missing."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from flows.stages import crawl_source
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.world import World


def test_a_source_crawled_through_the_browser_equals_its_ground_truth(world: World, tmp_path: Path) -> None:
    assert Path("/usr/bin/chromium").exists(), "Debian's chromium is needed (apt-get install chromium)"
    with Replica(world, Faults.none()) as replica:
        manifest = crawl_source(
            "miit_licences", tmp_path / "run", replica_url=replica.base_url, solver="replica", browser=True, timeout=300
        )
    assert manifest.complete, manifest.incomplete_reasons
    assert manifest.browser_session is True
    truth = world.ground_truth()["miit_licences"]
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records("miit_licences")).to_pylist()}
    assert keys == truth["records"]
    assert manifest.quarantined == len(truth["quarantined"])
