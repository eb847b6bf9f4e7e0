"""Run one source's crawl in this process and write it to a run folder.

    python -m spiders.run SOURCE --run-dir data/runs/<run_id> [--replica-url URL] [--arg k=v] [--set K=V]

The flow calls this in a subprocess per source (Twisted's reactor cannot restart in a long-lived
process). Exit 0 means the crawl ran to its end: complete or not, its manifest says which and why.
Exit 1 means it crashed (no manifest); exit 2 means the command was wrong.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from spiders import available
from spiders.settings import build


def parse_pairs(pairs: list[str], what: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"error: {what} {pair!r} is not KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spiders.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--replica-url", help="crawl the registry replica at this URL instead of the live site")
    parser.add_argument("--solver", choices=["none", "prompt", "replica"], help="captcha solver")
    parser.add_argument("--browser", action="store_true",
                        help="send every request through a real Chromium session (needs the browser extra)")
    parser.add_argument("--politeness", choices=["live", "off"],
                        help="request pacing: live defaults, or off (default: off on the replica, live elsewhere)")
    parser.add_argument("--arg", action="append", default=[], help="spider argument KEY=VALUE")
    parser.add_argument("--set", action="append", default=[], help="Scrapy setting KEY=VALUE (JSON values)")
    args = parser.parse_args(argv)

    spiders = available()
    if args.source not in spiders:
        print(f"error: unknown source {args.source!r}; known: {', '.join(spiders)}", file=sys.stderr)
        return 2
    # data/runs/<run_id> → data/httpcache: detail pages cached across runs, beside the warehouse.
    overrides: dict[str, object] = {"CREDITWATCH_RUN_DIR": str(args.run_dir),
                                    "HTTPCACHE_DIR": str(args.run_dir.resolve().parent.parent / "httpcache")}
    if args.replica_url:
        overrides["CREDITWATCH_REPLICA_URL"] = args.replica_url
    if args.solver:
        overrides["CREDITWATCH_CAPTCHA_SOLVER"] = args.solver
    overrides.update(parse_pairs(args.set, "--set"))
    profile = {"live": "live", "off": "replica"}[args.politeness] if args.politeness else (
        "replica" if args.replica_url else "live")
    if profile == "live" and args.replica_url:
        overrides.setdefault("CREDITWATCH_CAPTCHA_SOLVER", "replica")  # live pacing, measured on the replica
    settings = build(profile, overrides, browser=args.browser or os.environ.get("CREDITWATCH_BROWSER") == "1")
    spider_args = {k: str(v) for k, v in parse_pairs(args.arg, "--arg").items()}

    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL", "WARNING"))
    process = CrawlerProcess(settings, install_root_handler=True)
    process.crawl(spiders[args.source], **spider_args)
    process.start()
    if not (args.run_dir / f"{args.source}.manifest.json").exists():
        print(f"error: {args.source} crawl ended without a manifest", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
