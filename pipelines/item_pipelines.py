"""Scrapy item pipelines: normalise → validate → dedupe. Writing happens in `pipelines.run_folder`.

Nothing is dropped silently: a record that fails validation is kept, with its reasons, and routed to
the run's quarantine file by the writer.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from scrapy.exceptions import DropItem

from pipelines import normalise, uscc
from pipelines.items import RecordItem
from pipelines.schemas import Field


def _text(value: object) -> str | None:
    return normalise.clean_text(value)


def _name(value: object) -> str | None:
    return normalise.clean_text(value)


def _amount(unit: str) -> Callable[[object], Decimal | None]:
    return lambda value: normalise.parse_amount_yuan(value, unit=unit)


def _long_text(value: object) -> str | None:
    text = normalise.clean_text(value)
    return normalise.mask_personal_ids_in_text(text) if text else text


def _personal_id(value: object) -> str | None:
    text = normalise.clean_text(value)
    return normalise.mask_id_number(text) if text else None


def _licence_no(value: object) -> str | None:
    text = normalise.clean_text(value)
    return normalise.normalise_licence_number(text) if text else None


NORMALISERS: dict[str, Callable[[object], Any]] = {
    "text": _text,
    "name": _name,
    "date": normalise.parse_date,
    "amount_yuan": _amount("元"),
    "amount_wan": _amount("万元"),
    "long_text": _long_text,
    "personal_id": _personal_id,
    "licence_no": _licence_no,
}


def normalise_fields(schema: dict[str, Field], raw: dict[str, Any], item: RecordItem, prefix: str = "") -> dict:
    """Type every field of `raw` by `schema`; record a problem on `item` for each bad value."""
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        value = raw.get(name)
        label = f"{prefix}{name}"
        empty = value is None or (isinstance(value, str | list) and len(value) == 0)
        if empty:
            if spec.required:
                item.quarantine("required field is empty", label, value)
            out[name] = [] if spec.kind == "list" else None
            continue
        if spec.kind == "list":
            assert spec.of is not None
            out[name] = [normalise_fields(spec.of, element, item, f"{label}[{i}].") for i, element in enumerate(value)]
        elif spec.kind == "uscc":
            # An invalid code is not a reason to quarantine: the linker falls back to names and flags it.
            out[name] = uscc.validate_uscc(value) if uscc.is_valid_uscc(value) else None
            out[f"{name}_raw"] = str(value)
        else:
            try:
                out[name] = NORMALISERS[spec.kind](value)
            except ValueError as error:
                # A personal ID that failed to parse is still personal data: never copy it out raw.
                shown = "(withheld: personal data)" if spec.kind == "personal_id" else value
                item.quarantine(str(error), label, shown)
                out[name] = None
            else:
                if out[name] is None and spec.required:
                    item.quarantine("required field is empty after cleaning", label, value)
    return out


class NormalisePipeline:
    """Types each record's fields by its item type's schema: the running spider's `fields` (its source's
    fields.py), or the schemas it is given (a file fed through `creditwatch ingest`)."""

    def __init__(self, schemas: dict[str, dict[str, Field]] | None = None, crawler: Any = None) -> None:
        self.schemas = schemas
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalisePipeline:
        return cls(crawler=crawler)

    def _schemas(self) -> dict[str, dict[str, Field]]:
        if self.schemas is None:
            self.schemas = dict(self.crawler.spider.fields)
        return self.schemas

    def process_item(self, item: RecordItem) -> RecordItem:
        schema = self._schemas().get(item.record_type)
        if schema is None:
            item.quarantine(f"unknown record type {item.record_type!r}", "record_type", item.record_type)
            return item
        if not str(item.natural_key or "").strip():
            item.quarantine("record has no natural key", "natural_key", item.natural_key)
        if item.problems:
            # Already rejected as a whole (e.g. a notice published only as an image): field checks
            # would only add noise rows to the quarantine.
            return item
        item.fields = normalise_fields(schema, item.fields, item)
        return item


class DedupePipeline:
    """One record per (source, natural key) per run: sites repeat rows across pages and searches."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def process_item(self, item: RecordItem) -> RecordItem:
        key = (item.source, item.natural_key)
        if key in self.seen:
            raise DropItem(f"duplicate {item.source} record {item.natural_key}")
        self.seen.add(key)
        return item
