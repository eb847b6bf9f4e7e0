"""Which encoding a Chinese CSV file is in (文件编码): UTF-8 (with or without BOM), else GB18030.

Official exports and spreadsheets saved on Chinese Windows are often GB18030/GBK (GB18030 is a superset of
GBK and GB2312, and decodes any byte string), so every file creditwatch reads — ingest files, watchlists,
the linker's files, compliance facts — goes through detect_encoding and accepts both.
"""

from __future__ import annotations

import codecs
from pathlib import Path

_CHUNK = 1 << 20


def first_bad_line(path: Path, encoding: str) -> int | None:
    """The line where `encoding` first fails to decode the file, None when it decodes the whole file; one
    streaming pass, so a file of any size is checked without being held in memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line, offset_lines = 1, 0
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return offset_lines + line + chunk[: error.start].count(b"\n")
            offset_lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset_lines + 1
    return None


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when the whole file decodes as UTF-8, else 'gb18030'."""
    return "utf-8-sig" if first_bad_line(path, "utf-8") is None else "gb18030"


def read_text(path: Path) -> str:
    """The whole file as text, decoded by detect_encoding."""
    return Path(path).read_bytes().decode(detect_encoding(path))
