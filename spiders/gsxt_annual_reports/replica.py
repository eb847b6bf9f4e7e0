"""gsxt company annual reports on the replica: `anCheYearInfo` per entity on app.gsxt.gov.cn (registries.md §2.2).

The site's entities, 加速乐 firewall (521 without the clearance) and GBK-encoded nodes are gsxt_records'
(spiders/gsxt_records/replica.py, imported here: the gsxt replica has no platform module yet, unlike the spider
side, spiders/platforms/gsxt.py); this module adds one sub-resource on the same host:
  GET /gsxt/corp-query-entprise-info-anCheYearInfo-{pripid}.html?nodeNum&entType&start&sourceType
      → {"recordsTotal", "totalPage", "data": [{anCheId, anCheYear, anCheDate}]}
§2.2 gives the rows ("list of {anCheId, anCheYear, anCheDate}"); the replica's guesses: the sub-resource envelope
and its 5-row pages (as entBusExcep's), newest year first, anCheYear as a string, anCheDate an ISO date; an
unknown pripid answers the empty envelope.

Its share of the world (family `company_annual_reports`): every entity has filed every year from its first
(2016–2021, by its code) to last year, filed between January and June of the year after. Two operators have not
filed last year's report (due 30 June of this year, past at the world's today); between the crawls (epoch 1) one
files it late, so its record changes (history).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from replica.server import Replica, Request, Response
from replica.world import World, live_at
from spiders.gsxt_records.replica import HOST, PRIPID_PREFIX, SECTION_PAGE_SIZE, Entity, _encoded, entities, guarded

__all__ = ["HOST", "ROUTES", "ground_truth", "late_filers", "populate"]

SOURCE = "gsxt_annual_reports"
FAMILY = "company_annual_reports"
LATE = 2


@dataclass
class CompanyFiling:
    """The latest year an entity (by code, else name) has filed, from `epoch_added`; the latest live one wins."""

    key: str
    year: int
    epoch_added: int = 0
    epoch_removed: int | None = None


def _key(uscc: str | None, name: str) -> str:
    return uscc or name


def late_filers(world: World) -> list[str]:
    """USCCs of the operators this source made late (deterministic for a world)."""
    return [c.uscc for c in random.Random(f"{world.seed}:{SOURCE}:late").sample(world.companies, LATE)]


def populate(world: World, rng: random.Random) -> None:
    filings = world.family(FAMILY)
    late = late_filers(world)
    for uscc in late:
        filings.append(CompanyFiling(uscc, world.today.year - 2))
    filings.append(CompanyFiling(late[0], world.today.year - 1, epoch_added=1))  # filed late, between crawls


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def years(world: World, entity: Entity, epoch: int) -> list[int]:
    """The years the entity has filed at `epoch`, newest first."""
    key = _key(entity.uscc, entity.name)
    live = [f for f in world.families.get(FAMILY, ()) if f.key == key and live_at(f, epoch)]
    last = live[-1].year if live else world.today.year - 1
    first = 2016 + _digest(key) % 6
    return list(range(last, first - 1, -1))


def report_row(entity: Entity, year: int) -> dict:
    filed = date(year + 1, 1, 15) + timedelta(days=_digest(f"{entity.pripid}|{year}") % 160)
    return {"anCheId": hashlib.md5(f"{entity.pripid}|{year}".encode()).hexdigest(),  # noqa: S324 (an id)
            "anCheYear": str(year), "anCheDate": filed.isoformat()}


# the pripid as the search gave it: the entity's id and the session's query time (§7.2)
PATH = re.compile(rf"/gsxt/corp-query-entprise-info-anCheYearInfo-({PRIPID_PREFIX}\d{{6}})-\d{{13}}\.html")


@guarded
def annual_reports(replica: Replica, request: Request) -> Response:
    match = PATH.fullmatch(request.path.removeprefix(f"/{HOST}"))
    entity = next((e for e in entities(replica.world) if match and e.pripid == match.group(1)), None)
    rows = [report_row(entity, y) for y in years(replica.world, entity, replica.epoch)] if entity else []
    try:
        start = max(0, int(request.param("start", "0") or 0))
    except ValueError:
        start = 0
    return _encoded({"recordsTotal": len(rows), "totalPage": math.ceil(len(rows) / SECTION_PAGE_SIZE),
                     "data": rows[start:start + SECTION_PAGE_SIZE]}, entity)


ROUTES = {("GET", PATH): annual_reports}


def ground_truth(world: World, epoch: int = 0) -> dict[str, dict]:
    """One record per entity, keyed by uniscId | entName as published."""
    return {SOURCE: {"records": {f"{e.uscc or ''}|{e.name}" for e in entities(world)}, "quarantined": {}}}
