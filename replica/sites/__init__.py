"""Each module here reproduces one registry's contract.

A site module defines `HOST` (the real host name, used as the path prefix), `ROUTES`
({(method, path): handler}) and `ground_truth(world, epoch) -> {source: {"records": set of natural
keys, "quarantined": {natural key: reason}}}` for the sources crawled from it. Modules are found
automatically: adding a site is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any


def site_modules() -> list[ModuleType]:
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "ROUTES") and hasattr(module, "HOST"):
            modules.append(module)
    return modules


def routes() -> dict:
    table: dict = {}
    for site in site_modules():
        for (method, path), handler in site.ROUTES.items():
            table[(method, f"/{site.HOST}{path}")] = handler
    return table


def ground_truth(world: Any, epoch: int = 0) -> dict[str, dict]:
    truth: dict[str, dict] = {}
    for site in site_modules():
        if hasattr(site, "ground_truth"):
            truth.update(site.ground_truth(world, epoch))
    return truth
