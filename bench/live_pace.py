"""Pages per hour at the LIVE politeness defaults (spiders/settings.py LIVE), measured on the replica.

    python -m bench.live_pace [--seconds 120] [--source SOURCE]  (default: the first declared source)

Crawls the replica with the live pacing (one request at a time per host, 5 s base delay, AutoThrottle)
for a bounded time, then prints pages fetched, pages/hour and the implied time for a full crawl of the
source at that pace. Items/s with politeness off are in bench/run.py (the crawl stage).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from flows.stages import crawl_source
from replica.server import Faults, Replica
from spiders.source import sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=120, help="how long to crawl (CLOSESPIDER_TIMEOUT)")
    parser.add_argument("--source", default=next(iter(sources())), choices=list(sources()))
    args = parser.parse_args()
    with Replica(faults=Faults.none()) as replica, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        manifest = crawl_source(args.source, Path(tmp) / "run", replica_url=replica.base_url, solver="replica",
                                settings={"CLOSESPIDER_TIMEOUT": args.seconds, "HTTPCACHE_ENABLED": False},
                                politeness="live")
        elapsed = time.perf_counter() - started
    pages = manifest.pages_fetched or 0
    per_hour = pages / elapsed * 3600
    print(json.dumps({"source": args.source, "seconds": round(elapsed, 1), "pages": pages,
                      "pages_per_hour": round(per_hour), "items": manifest.items,
                      "complete": manifest.complete}, ensure_ascii=False))
    print(f"{args.source}: {pages} pages in {elapsed:.0f} s at the live defaults = {per_hour:.0f} pages/hour "
          f"per host. Rerun: python -m bench.live_pace --seconds {args.seconds} --source {args.source}")


if __name__ == "__main__":
    main()
