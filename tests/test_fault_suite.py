"""The fault suite, for every source in spiders.available(): with the registries' faults a correct crawl
recovers from (429 with Retry-After, 5xx, truncated bodies, slow answers) it still equals the replica's
ground truth; a firewall challenge, a redesign (layout drift) or a captcha nobody can answer ends the source
*incomplete* with the reason, never as "no records". A new source is covered here without a line of code."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.stages import crawl_source
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.sites import browser_session
from replica.world import World
from spiders import available
from spiders.source import sources
from tests.helpers import assert_incomplete_because, only_fault

SOURCES = sorted(available())
CAPTCHA_SOURCES = sorted(name for name, s in sources().items() if s.captcha)
# Every first attempt meets one of the recoverable faults (a fifth each; the rest answer normally).
RECOVERABLE = Faults(rate_limit=0.2, server_error=0.2, truncated=0.2, slow=0.2, challenge=0, layout_drift=0)


def crawl(world: World, source: str, run_dir: Path, faults: Faults, solver: str = "replica") -> dict:
    with Replica(world, faults) as replica:
        browser_session(replica, True)  # the firewall clearance a browser session would hold
        return crawl_source(source, run_dir, replica_url=replica.base_url, solver=solver)


def keys(folder: RunFolder, source: str) -> tuple[set[str], set[str]]:
    records = {r["natural_key"] for r in pq.read_table(folder.records(source)).to_pylist()}
    quarantined = {r["natural_key"] for r in pq.read_table(folder.quarantine(source)).to_pylist()}
    return records, quarantined


@pytest.mark.parametrize("source", SOURCES)
def test_recoverable_faults_still_give_the_ground_truth(world: World, tmp_path: Path, source: str) -> None:
    manifest = crawl(world, source, tmp_path / "run", RECOVERABLE)
    assert manifest.complete, manifest.incomplete_reasons
    assert manifest.retries > 0  # the faults were met, and retried
    truth = world.ground_truth(0)[source]
    assert keys(RunFolder(tmp_path / "run"), source) == (truth["records"], set(truth["quarantined"]))


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("fault", "expected"), [("challenge", "blocked"), ("layout_drift", "layout")])
def test_a_challenge_or_a_redesign_ends_the_source_incomplete(world: World, tmp_path: Path, source: str, fault: str,
                                                             expected: str) -> None:
    manifest = crawl(world, source, tmp_path / "run", only_fault(fault))
    assert_incomplete_because(manifest, expected)


@pytest.mark.parametrize("source", CAPTCHA_SOURCES)
def test_a_captcha_without_a_solver_ends_the_source_incomplete(world: World, tmp_path: Path, source: str) -> None:
    manifest = crawl(world, source, tmp_path / "run", Faults.none(), solver="none")
    assert_incomplete_because(manifest, "captcha")
    assert manifest.items == 0
