"""miit_licences on the replica: the dxxzsp app's routes come from the platform (spiders/platforms/
miit_dxxzsp_replica.py, registries.md §3.1, §7.3); this source adds its share of the world and its ground truth.

Its share: a few licences have never filed an annual report (getreporty answers `ssss`, qiyereport.jsp shows
no report), so their 统一社会信用代码 is unknown to this source. They are licences issued this year where there
are such (their first report is not due until next March), each the only licence of its company.
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

__all__ = ["HOST", "ROUTES", "ground_truth", "not_found", "populate", "without_report"]

WITHOUT_REPORT = 2  # licences that never filed an annual report


def populate(world: Any, rng: random.Random) -> None:
    single = [c.licences[0] for c in world.companies if len(c.licences) == 1 and not c.licences[0].malformed]
    new = [lic for lic in single if min(t.issued_on for t in lic.business_types).year == world.today.year]
    pool = new if len(new) >= WITHOUT_REPORT else single
    for lic in rng.sample(pool, WITHOUT_REPORT):
        world.family(FILINGS).append(AnnualReportFiling(lic.lic_id, None))


def without_report(world: Any, epoch: int = 0) -> set[str]:
    """The licences without an annual report at `epoch` (whoever populated that): their USCC comes out NULL."""
    return {lic.lic_id for _, lic in world.licences() if filed_year(world, lic.lic_id, epoch) is None}


def ground_truth(world: Any, epoch: int = 0) -> dict[str, dict]:
    kept = {lic.lic_id for _, lic in world.licences() if not lic.malformed}
    quarantined = {lic.lic_id: lic.malformed for _, lic in world.licences() if lic.malformed}
    return {"miit_licences": {"records": kept, "quarantined": quarantined}}
