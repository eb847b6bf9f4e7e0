"""Raw responses archived as evidence: gzip files addressed by sha256, plus a per-source index.

    data/runs/<run_id>/evidence/<sha256[:2]>/<sha256>.gz
    data/runs/<run_id>/evidence/<source>.index.jsonl   url, method, status, fetched_at, sha256, bytes

The archive is the one place raw personal data may sit, so it is created owner-only (0700) and is
purged with the run folders.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class EvidenceArchive:
    def __init__(self, crawler: Crawler, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        self.index_path: Path | None = None
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EvidenceArchive:
        if not crawler.settings.getbool("CREDITWATCH_EVIDENCE", True):
            raise NotConfigured
        return cls(crawler, Path(crawler.settings["CREDITWATCH_RUN_DIR"]) / "evidence")

    def spider_opened(self, spider: Any) -> None:
        self.index_path = self.root / f"{spider.name}.index.jsonl"

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        digest = sha256(response.body).hexdigest()
        path = self.root / digest[:2] / f"{digest}.gz"
        if not path.exists():
            path.parent.mkdir(exist_ok=True, mode=0o700)
            os.chmod(path.parent, 0o700)  # mkdir's mode is cut by the umask; this is not
            _write_private(path, gzip.compress(response.body, mtime=0))
        entry = {"url": response.url, "method": request.method, "status": response.status,
                 "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"), "sha256": digest,
                 "bytes": len(response.body), "form": (request.body or b"").decode("utf-8", "replace")}
        assert self.index_path is not None
        handle = os.open(self.index_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "a", encoding="utf-8") as index:
            index.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to a new owner-only (0600) file whatever the umask."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
