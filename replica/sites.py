"""The replica's sites: each source's `spiders/<source>/replica.py` reproduces its registry's contract.

A source's replica module defines
  - `HOST`: the real host name, served as a path prefix (`http://127.0.0.1:PORT/<HOST>/<real path>`);
  - `ROUTES`: {(method, path): handler}; a path may also be a compiled regular expression (for paths that
    carry an id, e.g. gsxt's per-entity pages), matched whole;
  - `ground_truth(world, epoch) -> {source: {"records": set of natural keys, "quarantined": {key: reason}}}`;
and optionally
  - `populate(world, rng)`: add its share of the world's records (`world.families[...]`), from its own seeded
    random stream, so adding a source never changes another source's data;
  - `not_found(replica, request) -> Response`: how the real site answers a path it does not serve;
  - `browser_session(replica, granted)`: serve as though requests rode a browser session that passed the
    site's firewall (demo and tests; live, a real browser must do it);
  - `OTHER_HOSTS`: {host: ROUTES} for a site whose pages send the crawler to a second host (as MIIT's notices
    send readers to tsm.miit.gov.cn).
Sources sharing a host share its routes through a platform module (spiders/platforms/); a route may be
declared by one module only (several modules may import the same handler objects).
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Any

from spiders.source import sources


def site_modules() -> list[ModuleType]:
    """Every source's replica module, by source name."""
    modules = []
    for name, source in sources().items():
        if (source.path / "replica.py").exists():
            modules.append(importlib.import_module(f"spiders.{name}.replica"))
    return modules


def routes() -> tuple[dict[tuple[str, str], Any], list[tuple[str, re.Pattern[str], Any]]]:
    """(exact routes, pattern routes) of every site, under their host prefixes. A route declared twice is an error."""
    exact: dict[tuple[str, str], Any] = {}
    owner: dict[tuple[str, str], str] = {}
    patterns: list[tuple[str, re.Pattern[str], Any]] = []
    for site in site_modules():
        for host, site_routes in ((site.HOST, site.ROUTES), *getattr(site, "OTHER_HOSTS", {}).items()):
            for (method, path), handler in site_routes.items():
                if isinstance(path, re.Pattern):
                    patterns.append((method, re.compile(re.escape(f"/{host}") + path.pattern), handler))
                    continue
                key = (method, f"/{host}{path}")
                if key in exact and exact[key] is not handler:
                    raise ValueError(f"replica route {method} {key[1]} is declared by {owner[key]} and {site.__name__}")
                exact[key], owner[key] = handler, site.__name__
    return exact, patterns


def not_found_handlers() -> dict[str, Any]:
    """Host → how that site answers a path it does not serve."""
    return {site.HOST: site.not_found for site in site_modules() if hasattr(site, "not_found")}


def populate(world: Any) -> None:
    """Let every source add its records to `world`, each from its own random stream."""
    import random

    for site in site_modules():
        if hasattr(site, "populate"):
            site.populate(world, random.Random(f"{world.seed}:{site.__name__}"))


def ground_truth(world: Any, epoch: int = 0) -> dict[str, dict]:
    truth: dict[str, dict] = {}
    for site in site_modules():
        if hasattr(site, "ground_truth"):
            truth.update(site.ground_truth(world, epoch))
    return truth


def browser_session(replica: Any, granted: bool = True) -> None:
    """Every site serves (or stops serving) as though a browser session had passed its firewall."""
    for site in site_modules():
        if hasattr(site, "browser_session"):
            site.browser_session(replica, granted)
