"""Each module here reproduces one registry's contract; `routes()` gathers them."""

from __future__ import annotations

from replica.sites import miit


def routes() -> dict:
    table: dict = {}
    for site in (miit,):
        for (method, path), handler in site.ROUTES.items():
            table[(method, f"/{site.HOST}{path}")] = handler
    return table
