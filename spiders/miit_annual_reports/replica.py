"""miit_annual_reports on the replica: the dxxzsp app's routes come from the platform (spiders/platforms/
miit_dxxzsp_replica.py, registries.md §3.1, §7.3: getreporty answers FILL_YEAR or `ssss`); this source adds its
share of the world (annual-report filings, the world family `licence_annual_reports`) and its ground truth.

Its share: two licences (issued before last year) of operators holding two licences have not filed last
year's report (their latest is the year before: past the 31 March deadline at the world's today); between the
crawls (epoch 1) one of them files it, so its record changes (history). Licences are chosen among two-licence
operators so that miit_licences' own never-filed licences (single-licence operators) stay as it made them.
"""

from __future__ import annotations

import random
from typing import Any

from spiders.platforms.miit_dxxzsp_replica import (
    FILINGS,
    HOST,
    ROUTES,
    AnnualReportFiling,
    filed_year,
    not_found,
)

__all__ = ["HOST", "ROUTES", "ground_truth", "late_filers", "not_found", "populate"]

SOURCE = "miit_annual_reports"
LATE = 2  # licences whose report for last year is missing


def late_filers(world: Any) -> list[Any]:
    """The licences this source made late (deterministic for a world)."""
    # issued before last year: last year's report is owed (a licence reports from its first year)
    pool = [lic for c in world.companies if len(c.licences) == 2 for lic in c.licences
            if not lic.malformed and min(t.issued_on for t in lic.business_types).year < world.today.year - 1]
    return random.Random(f"{world.seed}:{SOURCE}:late").sample(pool, LATE)


def populate(world: Any, rng: random.Random) -> None:
    filings = world.family(FILINGS)
    late = late_filers(world)
    for lic in late:
        filings.append(AnnualReportFiling(lic.lic_id, world.today.year - 2))
    # Filed between the two crawls: the latest-added live filing wins (miit_dxxzsp_replica.filed_year).
    filings.append(AnnualReportFiling(late[0].lic_id, world.today.year - 1, epoch_added=1))


def ground_truth(world: Any, epoch: int = 0) -> dict[str, dict]:
    """Every licence, keyed by lic_id (the malformed licence number quarantined), whatever its filing year."""
    kept = {lic.lic_id for _, lic in world.licences() if not lic.malformed}
    quarantined = {lic.lic_id: lic.malformed for _, lic in world.licences() if lic.malformed}
    return {SOURCE: {"records": kept, "quarantined": quarantined}}


def years(world: Any, epoch: int = 0) -> dict[str, int | None]:
    """lic_id → the latest year filed at `epoch` (what a crawl must read)."""
    return {lic.lic_id: filed_year(world, lic.lic_id, epoch) for _, lic in world.licences()}
