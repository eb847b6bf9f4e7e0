"""Small builders for tests: a run folder written the way the crawl writes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.items import record_id
from pipelines.run_folder import QUARANTINE_SCHEMA, RECORD_SCHEMA, Manifest, RunFolder, to_json, write_manifest
from replica.server import Faults


def licence_fields(n: int, name: str | None = None, expires: str = "2027-06-30") -> dict[str, Any]:
    return {
        "licence_no": f"B1-2024{n:04d}", "company_name": name or f"测试{n}科技有限公司", "uscc": None,
        "uscc_raw": "", "legal_rep": "张三", "issuer": "工业和信息化部",
        "business_types": [{"business_type": "内容分发网络业务", "coverage": "全国", "issued_on": "2024-01-01",
                            "expires_on": expires}],
    }


def write_run(root: Path, run_id: str, source: str, records: dict[str, dict[str, Any]], complete: bool = True,
              finished_at: str = "2026-11-23T06:00:00+00:00", record_type: str = "licence") -> Path:
    """A run folder with `records` (natural key → fields) for `source`, and its manifest."""
    folder = RunFolder(root / run_id)
    folder.path.mkdir(parents=True, exist_ok=True)
    rows = []
    for key, fields in records.items():
        raw = to_json({"key": key, **fields})
        rows.append({"record_id": record_id(source, key), "source": source, "record_type": record_type,
                     "natural_key": key, "url": f"http://replica/{key}", "fetched_at": finished_at,
                     "content_hash": str(hash(raw)), "raw_json": raw, "fields_json": to_json(fields)})
    pq.write_table(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA), folder.records(source))
    pq.write_table(pa.Table.from_pylist([], schema=QUARANTINE_SCHEMA), folder.quarantine(source))
    write_manifest(folder, Manifest(
        run_id=run_id, source=source, started_at=finished_at, finished_at=finished_at, complete=complete,
        incomplete_reasons=[] if complete else ["test: incomplete"], items=len(rows), pages_fetched=1,
        pages_failed=0, retries=0, expected_rows=len(rows)))
    return folder.path


def only_fault(fault: str | None) -> Faults:
    """The replica's faults all off, except `fault` on every first attempt."""
    faults = Faults.none()
    if fault:
        setattr(faults, fault, 1.0)
    return faults


def assert_incomplete_because(manifest: Manifest, expected: str) -> None:
    """The source ended incomplete, and one of its reasons says `expected`."""
    assert manifest.complete is False
    assert any(expected in reason for reason in manifest.incomplete_reasons), manifest.incomplete_reasons
