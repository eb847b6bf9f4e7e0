"""Repair cases from the command line (`creditwatch repair …`): each function opens the warehouse, does one
thing through transforms.repair and closes it. The CLI prints what these return; the tests call them too.
The run's own part (verified removal) is in flows.stages.apply_run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from transforms.repair import cases
from transforms.repair.deadlines import china_day
from transforms.repair.pack import Pack, write_pack
from transforms.repair.progress import progress_rows
from warehouse.db import connect, transaction

DEFAULT_PACKS = Path("exports") / "repair"  # exports/repair/<case>/


@dataclass(frozen=True)
class Opened:
    case: cases.Case
    pack: Pack


def open_case(warehouse: str | os.PathLike[str] | None, reference: str, packs: Path = DEFAULT_PACKS,
              actor: str | None = None) -> Opened:
    """Open a case for a removal candidate and write its application pack: both or neither."""
    con = connect(warehouse)
    try:
        with transaction(con):
            case = cases.open_case(con, reference, actor)
            pack = write_pack(con, case.case_id, packs)
        return Opened(case, pack)
    finally:
        con.close()


def write_case_pack(warehouse: str | os.PathLike[str] | None, case_id: str, packs: Path = DEFAULT_PACKS) -> Pack:
    """Write the case's pack again (after `creditwatch facts` recorded the performance, say)."""
    con = connect(warehouse)
    try:
        return write_pack(con, case_id, packs)
    finally:
        con.close()


def submit(warehouse: str | os.PathLike[str] | None, case_id: str, on: date, platform: str,
           receipt_no: str | None = None, actor: str | None = None) -> cases.Case:
    con = connect(warehouse)
    try:
        return cases.submit(con, case_id, on, platform, receipt_no, actor)
    finally:
        con.close()


def outcome(warehouse: str | os.PathLike[str] | None, case_id: str, result: str, on: date,
            reason: str | None = None, actor: str | None = None) -> cases.Case:
    con = connect(warehouse)
    try:
        return cases.record_outcome(con, case_id, result, on, reason, actor)
    finally:
        con.close()


def note(warehouse: str | os.PathLike[str] | None, case_id: str, text: str, actor: str | None = None) -> cases.Case:
    con = connect(warehouse)
    try:
        return cases.add_note(con, case_id, text, actor)
    finally:
        con.close()


def list_cases(warehouse: str | os.PathLike[str] | None, as_of: date | None = None, overdue_only: bool = False
               ) -> list[dict]:
    """Every case (or only the overdue ones) with its deadline as of `as_of` (default: today in China)."""
    con = connect(warehouse)
    try:
        rows = progress_rows(con, as_of or china_day(datetime.now(UTC).replace(tzinfo=None)))
    except duckdb.CatalogException:
        raise cases.RepairError(cases.NOT_BUILT) from None
    finally:
        con.close()
    return [r for r in rows if r["overdue"]] if overdue_only else rows
