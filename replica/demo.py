"""What the demo pretends the compliance team recorded: fines paid on some older creditchina penalties.

No registry publishes performance; a team records it (`creditwatch facts`). The demo writes such a file
from the world so that `make demo` shows removal candidates. Never used outside the demo.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from replica.world import World


def compliance_facts_csv(world: World, path: Path) -> Path:
    rows = []
    shown = world.at(0)["penalties"]  # what the demo's single crawl sees
    for n, penalty in enumerate(p for p in shown if p.platform == "creditchina" and not p.malformed):
        if n % 2 == 0 and (world.today - penalty.decided_on).days > 90:
            paid = penalty.decided_on + timedelta(days=10)
            rows.append({"reference": penalty.decision_no, "obligations_done_date": paid.isoformat(),
                         "corrected_date": paid.isoformat(), "note": "罚款已缴纳 (demo)"})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["reference", "obligations_done_date", "corrected_date", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return path
