"""The crawl's hand-off to the warehouse: one folder per run, written once, never edited.

    data/runs/<run_id>/
        <source>.parquet              clean records (one row each)
        <source>.quarantine.parquet   what failed, with url, field, raw value and reason
        <source>.manifest.json        pages, items, quarantined, complete?, why — written LAST
        evidence/                     raw responses (see pipelines.evidence)

The manifest is the commit marker: the warehouse loads a source only when its manifest exists, so a
crawl that dies half-way can never look like a source with no records.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from hashlib import sha256
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy import signals
from scrapy.crawler import Crawler

from pipelines.items import RecordItem, record_id
from pipelines.normalise import mask_personal_ids_deep, masking_secret, protect_natural_key

# The masking key (see pipelines.normalise.protect_natural_key) lives in the data folder, beside the warehouse:
# run folders are data/runs/<run id>/, so two levels up, unless this variable names the file.
MASKING_KEY_ENV = "CREDITWATCH_MASKING_KEY_FILE"
MASKING_KEY_NAME = "masking.key"


def masking_key_file(run_dir: Path) -> Path:
    """Where the masking key for records written into `run_dir` is kept."""
    named = os.environ.get(MASKING_KEY_ENV)
    return Path(named) if named else run_dir.resolve().parent.parent / MASKING_KEY_NAME

RECORD_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("source", pa.string()), ("record_type", pa.string()),
    ("natural_key", pa.string()), ("url", pa.string()), ("fetched_at", pa.string()),
    ("content_hash", pa.string()), ("raw_json", pa.string()), ("fields_json", pa.string()),
])
QUARANTINE_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("source", pa.string()), ("record_type", pa.string()),
    ("natural_key", pa.string()), ("url", pa.string()), ("fetched_at", pa.string()),
    ("field", pa.string()), ("raw_value", pa.string()), ("reason", pa.string()), ("raw_json", pa.string()),
])


@dataclass(frozen=True)
class RunFolder:
    path: Path

    def records(self, source: str) -> Path:
        return self.path / f"{source}.parquet"

    def quarantine(self, source: str) -> Path:
        return self.path / f"{source}.quarantine.parquet"

    def manifest(self, source: str) -> Path:
        return self.path / f"{source}.manifest.json"

    def manifests(self) -> list[Manifest]:
        return [read_manifest(p) for p in sorted(self.path.glob("*.manifest.json"))]

    @property
    def run_id(self) -> str:
        return self.path.name


def to_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, date | datetime):
            return obj.isoformat()
        if isinstance(obj, Decimal):
            return str(obj)
        raise TypeError(f"cannot serialise {type(obj).__name__}")

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=default)


def mask_raw(value: Any) -> Any:
    """Personal ID numbers never leave the evidence archive unmasked, raw rows included."""
    return mask_personal_ids_deep(value)


def write_atomically(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


class RunWriter:
    """Collects clean and quarantined rows for one source and writes them into the run folder, streaming:
    every BATCH_ROWS rows go to a temporary parquet file, renamed into place by write(). `rows` and
    `quarantined` hold only the batch not flushed yet; `items` and `quarantined_items` count everything."""

    BATCH_ROWS = 20_000

    def __init__(self, folder: RunFolder, source: str, batch_rows: int | None = None) -> None:
        self.folder, self.source = folder, source
        self.batch_rows = batch_rows or self.BATCH_ROWS
        self.rows: list[dict[str, Any]] = []
        self.quarantined: list[dict[str, Any]] = []
        self.items = self.quarantined_items = 0
        self._secret: bytes | None = None
        self._writers: dict[str, pq.ParquetWriter] = {}

    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = masking_secret(masking_key_file(self.folder.path))
        return self._secret

    def add(self, item: RecordItem) -> bool:
        """Route the item to the records or the quarantine; True when it was clean. Every string of every
        field, the raw row and the url have personal ID numbers masked; a natural key holding one is
        replaced by its protected form (pipelines.normalise.protect_natural_key), and the record id with it."""
        raw_json = to_json(mask_raw(item.raw))
        key = protect_natural_key(str(item.natural_key), self.secret)
        base = {"record_id": item.record_id if key == str(item.natural_key) else record_id(item.source, key),
                "source": item.source, "record_type": item.record_type, "natural_key": key,
                "url": mask_raw(item.url), "fetched_at": item.fetched_at}
        if item.problems:
            for problem in item.problems:
                self.quarantined.append({**base, **problem, "raw_json": raw_json})
            self.quarantined_items += 1
            self._flush_if_full()
            return False
        self.rows.append({**base, "content_hash": sha256(raw_json.encode()).hexdigest(),
                          "raw_json": raw_json, "fields_json": to_json(mask_personal_ids_deep(item.fields))})
        self.items += 1
        self._flush_if_full()
        return True

    def _targets(self) -> dict[str, tuple[Path, pa.Schema, list[dict[str, Any]]]]:
        return {"records": (self.folder.records(self.source), RECORD_SCHEMA, self.rows),
                "quarantine": (self.folder.quarantine(self.source), QUARANTINE_SCHEMA, self.quarantined)}

    def _flush_if_full(self) -> None:
        if len(self.rows) + len(self.quarantined) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        self.folder.path.mkdir(parents=True, exist_ok=True)
        for name, (path, schema, rows) in self._targets().items():
            if name not in self._writers:
                self._writers[name] = pq.ParquetWriter(path.with_name(path.name + ".tmp"), schema)
            if rows:
                self._writers[name].write_table(pa.Table.from_pylist(rows, schema=schema))
                rows.clear()

    def write(self) -> None:
        """Flush what is left and put both files in place (each renamed from its temporary file)."""
        self._flush()
        for name, (path, _, _) in self._targets().items():
            self._writers.pop(name).close()
            os.replace(path.with_name(path.name + ".tmp"), path)

    def abandon(self) -> None:
        """Close and delete the temporary files (a failed ingest leaves nothing half-written)."""
        for name, (path, _, _) in self._targets().items():
            writer = self._writers.pop(name, None)
            if writer is not None:
                writer.close()
            path.with_name(path.name + ".tmp").unlink(missing_ok=True)


MANIFEST_FORMAT = 1  # raise it when a field changes meaning; readers refuse a format they do not know


class ManifestError(ValueError):
    """A manifest file that cannot be read; the message names the file and the reason."""


@dataclass(frozen=True)
class Manifest:
    """A source's crawl in a run (`<source>.manifest.json`): what was fetched and whether it is complete.

    The one hand-off from a crawl (or a file ingest) to the warehouse: built by the crawl, the ingest, a
    crashed crawl's stand-in and the benchmark generator; written by `write_manifest`, read by
    `read_manifest`. `complete` is the verdict the warehouse trusts to infer removals (unless
    `infer_removals` is False, as for a file that holds only part of a register)."""

    run_id: str
    source: str
    started_at: str | None
    finished_at: str
    complete: bool
    incomplete_reasons: list[str] = field(default_factory=list)
    record_types: list[str] = field(default_factory=list)
    base_url: str | None = None
    finish_reason: str = "finished"
    pages_fetched: int | None = None
    pages_failed: int | None = None
    retries: int | None = None
    items: int = 0
    quarantined: int = 0
    duplicates_dropped: int = 0
    expected_rows: int | None = None
    browser_session: bool = False  # fetched through a real browser session (scrapy-playwright)
    infer_removals: bool = True
    synthetic: str | None = None  # set by the benchmark generator
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str, where: str = "manifest") -> Manifest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{where}: not JSON ({error})") from None
        if not isinstance(data, dict):
            raise ManifestError(f"{where}: expected a JSON object")
        version = data.get("format", MANIFEST_FORMAT)  # files written before the field existed are format 1
        if version != MANIFEST_FORMAT:
            raise ManifestError(f"{where}: manifest format {version!r}; this creditwatch reads format "
                                f"{MANIFEST_FORMAT}: upgrade creditwatch or recrawl")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ManifestError(f"{where}: unknown field(s) {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as error:
            raise ManifestError(f"{where}: {error}") from None


def read_manifest(path: Path) -> Manifest:
    return Manifest.from_json(Path(path).read_text("utf-8"), str(path))


def write_manifest(folder: RunFolder, manifest: Manifest) -> None:
    """Written last: the warehouse loads a source only when its manifest exists. Its reasons and URL are
    masked like every record (a failed page's URL can carry an ID number searched for)."""
    folder.path.mkdir(parents=True, exist_ok=True)
    text = replace(manifest, incomplete_reasons=mask_raw(list(manifest.incomplete_reasons)),
                   base_url=mask_raw(manifest.base_url)).to_json()
    write_atomically(folder.manifest(manifest.source), lambda p: p.write_text(text, "utf-8"))


class RunWriterPipeline:
    """Last item pipeline: collects clean and quarantined rows, writes them when the spider closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: RunWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunWriterPipeline:
        return cls(crawler)

    def process_item(self, item: RecordItem) -> RecordItem:
        if self.writer is None:
            self.writer = RunWriter(RunFolder(Path(self.crawler.settings["CREDITWATCH_RUN_DIR"])), item.source)
        clean = self.writer.add(item)
        self.crawler.stats.inc_value("creditwatch/items" if clean else "creditwatch/quarantined")
        return item

    def close_spider(self) -> None:
        writer = self.writer or RunWriter(RunFolder(Path(self.crawler.settings["CREDITWATCH_RUN_DIR"])),
                                          self.crawler.spider.name)
        writer.write()


class ManifestExtension:
    """Writes `<source>.manifest.json` when the spider closes (after the pipelines have written)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started = datetime.now(UTC)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ManifestExtension:
        return cls(crawler)

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats
        folder = RunFolder(Path(self.crawler.settings["CREDITWATCH_RUN_DIR"]))
        folder.path.mkdir(parents=True, exist_ok=True)
        complete, reasons = spider.completeness(reason)
        items = stats.get_value("creditwatch/items", 0)
        manifest = Manifest(
            run_id=folder.run_id,
            source=spider.name,
            record_types=sorted(spider.fields),  # item types the spider yields
            base_url=spider.base_url,
            started_at=self.started.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            finish_reason=reason,
            pages_fetched=stats.get_value("response_received_count", 0),
            pages_failed=stats.get_value("creditwatch/pages_failed", 0),
            retries=stats.get_value("retry/count", 0),
            items=items,
            quarantined=stats.get_value("creditwatch/quarantined", 0),
            duplicates_dropped=stats.get_value("item_dropped_count", 0),
            expected_rows=spider.expected_rows(),
            browser_session="scrapy_playwright" in str(self.crawler.settings.getdict("DOWNLOAD_HANDLERS")),
            complete=complete,
            incomplete_reasons=list(reasons),
        )
        write_manifest(folder, manifest)
