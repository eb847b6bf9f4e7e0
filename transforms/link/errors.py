"""The linker's input error."""

from __future__ import annotations


class LinkInputError(ValueError):
    """Bad linker input (missing column, empty name, duplicate id, invalid operator USCC, non-UTF-8 file).

    The message names the file (or table) and line (or id) and the reason; nothing is skipped silently.
    """
