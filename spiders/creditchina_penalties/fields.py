"""Item schema of creditchina_penalties: a 行政处罚 on the 双公示 26-column template (registries.md §1.4), the
national standard every penalty channel follows (pipelines/schemas.py PENALTY)."""

from __future__ import annotations

from pipelines.schemas import PENALTY, Field

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"penalty": PENALTY}
