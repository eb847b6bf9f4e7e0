"""Feed a source from a file instead of a crawl (`creditwatch ingest SOURCE FILE`).

A team with lawful bulk access (an official 双公示 export, a licensed data provider's file) never needs
to crawl. The file goes through the same normalise → validate → dedupe → quarantine → write steps as a
crawl and lands in a run folder the warehouse loads the same way. A file covers only what it holds, so
its manifest says `infer_removals: false`: records missing from it are never marked removed.

Formats: the 26-column 行政处罚 upload template with its official Chinese headers (registries.md §1.4),
as CSV (UTF-8 with or without BOM, or GB18030) or XLSX (first sheet). Headers are matched after folding width,
spaces and bracket style, and the variants registries.md §7.6 found are accepted (HEADER_VARIANTS): the 法人
template's `行政相对人代码_2 (工商注册号)`, a mandatory `行政相对人类别` (kept in the raw row), and the legal
representative's ID split into `法定代表人证件类型` / `法定代表人证件号码`.
"""

from __future__ import annotations

import csv
import itertools
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.encoding import detect_encoding
from pipelines.item_pipelines import DedupePipeline, NormalisePipeline
from pipelines.items import RecordItem
from pipelines.run_folder import Manifest, RunFolder, RunWriter, write_manifest
from pipelines.schemas import Field

# 双公示 行政处罚 template header → penalty field (pipelines/schemas.py PENALTY). Codes 3–6 (组织机构代码,
# 税务登记号, 事业单位证书号, 社会组织登记证号) stay in the raw row only.
PENALTY_HEADERS = {
    "行政相对人名称": "subject_name",
    "行政相对人代码_1(统一社会信用代码)": "subject_uscc",
    "代码_2(工商注册号)": "subject_reg_no",
    "法定代表人": "legal_rep",
    "法定代表人身份证号": "legal_rep_id",
    "证件类型": "subject_id_type",
    "证件号码": "subject_id_number",
    "行政处罚决定书文号": "decision_no",
    "违法行为类型": "violation_type",
    "违法事实": "facts",
    "处罚依据": "basis",
    "处罚类别": "penalty_kinds_text",
    "处罚内容": "content",
    "罚款金额(万元)": "fine_wan",
    "没收违法所得、没收非法财物的金额(万元)": "confiscated_wan",
    "暂扣或吊销证照名称及编号": "licence_affected",
    "处罚决定日期": "decided_on",
    "处罚有效期": "valid_until",
    "公示截止期": "publish_until",
    "处罚机关": "authority",
    "处罚机关统一社会信用代码": "authority_uscc",
    "数据来源单位": "data_source",
    "备注": "note",
}
REQUIRED_HEADERS = ("行政相对人名称", "行政处罚决定书文号", "处罚决定日期", "处罚机关")
# §7.6: variant header (folded) → the template header it stands for. 行政相对人类别 and 法定代表人证件类型 have no
# field of their own: they stay in the raw row.
HEADER_VARIANTS = {
    "行政相对人代码_2(工商注册号)": "代码_2(工商注册号)",  # the official 法人 template (`[idx 4560357312]`)
    "法定代表人证件号码": "法定代表人身份证号",  # split ID columns (`[idx 16657484578]`, `[idx 7497359280]`)
}
BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "〈": "(", "〉": ")",
                          "《": "(", "》": ")"})
# The file format this module reads, as a source.yml names it under `files:` (format → item type).
FORMAT = "shuanggongshi_penalties"


class IngestError(ValueError):
    pass


def _header(text: object) -> str:
    """A header folded (NFKC width, no whitespace, one bracket style), then named as the template names it."""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")).translate(BRACKETS))
    return HEADER_VARIANTS.get(folded, folded)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, {header: value}) for every data row, streamed; headers NFKC-normalised (（万元） → (万元)).
    A CSV cell may hold a quoted line break (kept); the line number is the row's first line."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as error:  # noqa: BLE001 — openpyxl raises many kinds for a broken file
            raise IngestError(f"{path}: not a readable XLSX file ({error})") from None
        rows = sheet.iter_rows(values_only=True)
        headers = [_header(h) for h in next(rows, ())]
        for number, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                yield number, dict(zip(headers, values, strict=False))
        return
    with path.open(encoding=detect_encoding(path), newline="") as handle:
        reader = csv.reader(handle)
        headers = [_header(h) for h in next(reader, [])]
        number = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                if len(values) != len(headers):
                    raise IngestError(f"{path}:{number}: {len(values)} cells, the header has {len(headers)}")
                yield number, dict(zip(headers, values, strict=True))
            number = reader.line_num + 1


def ingest_file(source: str, path: Path, run_dir: Path, schemas: dict[str, dict[str, Field]],
                record_type: str = "penalty", registry_url: str | None = None) -> Manifest:
    """Write `path` into `run_dir` as if `source` had been crawled, as items of `record_type` typed by
    `schemas` (the source's fields.py); returns the manifest. The caller checks that the source declares
    this file format (source.yml `files:`). The file is streamed (rows are written in batches), so memory
    does not grow with its size. Raises IngestError — and writes nothing — for a missing, empty or
    malformed file. Each record's url is `registry_url` (the registry the file stands in for: what the export's
    来源链接 shows), never a local path; without one, the file's name and line."""
    if record_type not in schemas:
        raise IngestError(f"source {source!r} has no item type {record_type!r} to read a penalty file into")
    if not path.is_file():
        raise IngestError(f"no file {path}")
    started = datetime.now(UTC)
    rows = read_rows(path)
    first = next(rows, None)
    if first is None:
        raise IngestError(f"{path}: no data rows (an empty file is not a complete crawl with 0 records); "
                          "nothing was loaded")
    missing = [h for h in REQUIRED_HEADERS if h not in first[1]]
    if missing:
        raise IngestError(f"{path}: missing template column(s) {', '.join(missing)} (the 双公示 行政处罚 headers)")
    folder = RunFolder(run_dir)
    writer, normalise, dedupe = RunWriter(folder, source), NormalisePipeline(schemas), DedupePipeline()
    duplicates = total = 0
    try:
        for number, row in itertools.chain([first], rows):
            total += 1
            raw = {k: v for k, v in row.items() if k}
            fields = {field: row.get(header) for header, field in PENALTY_HEADERS.items()}
            key = str(row.get("行政处罚决定书文号") or "").strip()
            url = f"{registry_url.rstrip('/')}/" if registry_url else f"{path.name}#L{number}"
            item = RecordItem(source, record_type, key, url, raw, fields)
            item = normalise.process_item(item)
            try:
                dedupe.process_item(item)
            except Exception:  # noqa: BLE001 — DropItem: the same decision twice in one file
                duplicates += 1
                continue
            writer.add(item)
        writer.write()
    except BaseException:
        writer.abandon()
        raise
    manifest = Manifest(
        run_id=folder.run_id, source=source, record_types=[record_type], base_url=path.resolve().as_uri(),
        started_at=started.isoformat(timespec="seconds"), finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        pages_fetched=1, pages_failed=0, retries=0, items=writer.items, quarantined=writer.quarantined_items,
        duplicates_dropped=duplicates, expected_rows=total, complete=True, infer_removals=False,
    )
    write_manifest(folder, manifest)
    return manifest
