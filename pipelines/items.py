"""The one item every spider yields, and how a record's id is made."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipelines.normalise import mask_personal_ids_in_text


def record_id(source: str, natural_key: str) -> str:
    """Stable id from the source and its own natural key, taken from RAW values (never cleaned ones),
    so a better normaliser never changes ids."""
    return hashlib.sha1(f"{source}\x1f{natural_key}".encode()).hexdigest()[:20]


@dataclass
class RecordItem:
    """One record as a source published it.

    `raw` is what the site sent for this record (kept as evidence of the row); `fields` is the
    spider's reading of it under the record type's field names (pipelines/schemas.py), still raw
    values: the normalise pipeline types and cleans them. `problems` collects why a record must be
    quarantined; a record with problems never reaches the clean output.
    """

    source: str
    record_type: str
    natural_key: str
    url: str
    raw: dict[str, Any]
    fields: dict[str, Any]
    fetched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def record_id(self) -> str:
        return record_id(self.source, self.natural_key)

    def quarantine(self, reason: str, field_name: str = "", raw_value: object = None) -> None:
        """Record why this record cannot be accepted. ID numbers in the value or reason are masked."""
        shown = "" if raw_value is None else mask_personal_ids_in_text(str(raw_value))
        self.problems.append({"field": field_name, "raw_value": shown, "reason": mask_personal_ids_in_text(reason)})
