"""A warehouse with two weeks of history for the alert tests, built from run folders like a crawl writes them.

Week 1 (r1, 2026-11-10): three licensed operators — two of the 星辰 group (Beijing, Shanghai) and 清朗 — three
penalties, an old bad-list entry on 清朗, and an incomplete court crawl.
Between the weeks the team records that 星辰 Shanghai paid its fine (`creditwatch facts`).
Week 2 (r2, 2026-11-20): a penalty on 星辰 Beijing, one on its Shanghai branch, one on 星辰物业 (no licence,
named in the group's members file), 星辰 Shanghai on the bad list, 清朗's penalty amended and its old one
gone, a new operator whose licence expires within 90 days, and the court crawl incomplete again.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipelines.items import record_id
from replica.world import uscc_check_char
from tests.helpers import licence_fields, write_run
from transforms.build import build
from warehouse.db import connect
from warehouse.facts import import_facts
from warehouse.load import load_run

AS_OF = date(2026, 11, 23)
WEEK1, WEEK2 = "2026-11-10T06:00:00+00:00", "2026-11-20T06:00:00+00:00"


def uscc(body: str) -> str:
    first17 = ("91110000" + body)[:17]
    return first17 + uscc_check_char(first17)


STAR_BJ, STAR_SH, CLEAN, LATE, MEMBER = (uscc(b) for b in ("XCBJ00001", "XCHH00002", "QLBJ00003", "WDGD00004",
                                                             "XCWY00005"))
NAMES = {STAR_BJ: "北京星辰云计算科技有限公司", STAR_SH: "上海星辰网络科技有限公司", CLEAN: "北京清朗科技有限公司",
         LATE: "广州晚到数据科技有限公司", MEMBER: "北京星辰物业管理有限公司"}
BRANCH = "北京星辰云计算科技有限公司上海分公司"


def penalty(name: str, code: str | None, number: str, decided: str, fine: str = "5000") -> dict[str, Any]:
    return {"decision_no": number, "subject_name": name, "subject_uscc": code, "penalty_kinds_text": "罚款",
            "content": f"罚款人民币{fine}元", "fine_yuan": fine, "decided_on": decided, "published_on": decided,
            "authority": "北京市通信管理局", "domain": "telecom"}


def bad_list(code: str, notice: str) -> dict[str, Any]:
    return {"list_kind": "bad", "subject_name": NAMES[code], "subject_uscc": code, "licence_no": None,
            "decided_on": "2026-10-01", "reason": "未按规定报告年报信息", "unit": "北京市通信管理局",
            "notice_title": notice, "notice_url": "http://x/notice", "notice_published_on": "2026-10-20"}


def court(name: str) -> dict[str, Any]:
    return {"case_code": "(2026)京01执1号", "subject_name": name, "subject_uscc": None, "subject_id_number": None,
            "court": "北京市第一中级人民法院"}


P_OLD = penalty(NAMES[CLEAN], CLEAN, "京通管罚〔2025〕1号", "2025-05-01")
P_KEEP = penalty(NAMES[CLEAN], CLEAN, "京通管罚〔2026〕3号", "2026-05-01")
P_PAID = penalty(NAMES[STAR_SH], STAR_SH, "沪通管罚〔2026〕5号", "2026-05-01")
P_NEW = penalty(NAMES[STAR_BJ], STAR_BJ, "京通管罚〔2026〕9号", "2026-10-01")
P_BRANCH = penalty(BRANCH, None, "沪通管罚〔2026〕11号", "2026-10-02")
P_MEMBER = penalty(NAMES[MEMBER], MEMBER, "京市监罚〔2026〕12号", "2026-10-03")


def rid(source: str, key: str) -> str:
    return record_id(source, key)


# What happened in week 2, as (kind, subject): the events the alerts must find, no more, no fewer.
WEEK2_EVENTS = {
    ("record_new", rid("creditchina_penalties", "P-new")),
    ("record_new", rid("creditchina_penalties", "P-branch")),
    ("record_new", rid("creditchina_penalties", "P-member")),
    ("listed", rid("miit_telecom_lists", "bad-1")),
    ("record_changed", rid("creditchina_penalties", "P-keep")),
    ("record_removed", rid("creditchina_penalties", "P-old")),
    ("repair_eligible", rid("creditchina_penalties", "P-paid")),
    ("licence_expiring", "B1-20240004"),
    ("source_incomplete", "court_dishonest"),
}


def licences(*codes: str) -> dict[str, dict[str, Any]]:
    return {f"L{n}": licence_fields(n, NAMES[code], expires="2027-01-31" if code == LATE else "2029-01-01")
            | {"uscc": code} for n, code in ((1, STAR_BJ), (2, STAR_SH), (3, CLEAN), (4, LATE)) if code in codes}


def write_runs(root: Path) -> tuple[Path, Path]:
    write_run(root, "r1", "miit_licences", licences(STAR_BJ, STAR_SH, CLEAN), finished_at=WEEK1)
    write_run(root, "r1", "creditchina_penalties", {"P-old": P_OLD, "P-keep": P_KEEP, "P-paid": P_PAID},
              finished_at=WEEK1, record_type="penalty")
    write_run(root, "r1", "miit_telecom_lists", {"bad-0": bad_list(CLEAN, "第一季度公告")}, finished_at=WEEK1,
              record_type="telecom_list_entry")
    write_run(root, "r1", "court_dishonest", {"c1": court("某某")}, complete=False, finished_at=WEEK1,
              record_type="court_dishonest")
    write_run(root, "r2", "miit_licences", licences(STAR_BJ, STAR_SH, CLEAN, LATE), finished_at=WEEK2)
    write_run(root, "r2", "creditchina_penalties", {
        "P-keep": P_KEEP | {"fine_yuan": "8000", "content": "罚款人民币8000元"}, "P-paid": P_PAID, "P-new": P_NEW,
        "P-branch": P_BRANCH, "P-member": P_MEMBER}, finished_at=WEEK2, record_type="penalty")
    write_run(root, "r2", "miit_telecom_lists", {"bad-0": bad_list(CLEAN, "第一季度公告"),
                                                 "bad-1": bad_list(STAR_SH, "第四季度公告")},
              finished_at=WEEK2, record_type="telecom_list_entry")
    write_run(root, "r2", "court_dishonest", {"c1": court("某某")}, complete=False, finished_at=WEEK2,
              record_type="court_dishonest")
    return root / "r1", root / "r2"


def apply(warehouse: Path, run_dir: Path) -> None:
    con = connect(warehouse)
    try:
        load_run(con, run_dir)
        build(con, as_of=AS_OF)
    finally:
        con.close()


PAID_RECORDED_AT = datetime(2026, 11, 15, 8, 0)


def record_payment(warehouse: Path, tmp: Path) -> None:
    """The team records (on 2026-11-15) that 星辰 Shanghai paid its fine: the penalty becomes eligible."""
    facts = tmp / "facts.csv"
    facts.write_text("reference,obligations_done_date,corrected_date,note\n"
                     "沪通管罚〔2026〕5号,2026-05-20,2026-05-20,paid\n", "utf-8")
    con = connect(warehouse)
    try:
        import_facts(con, facts, "tester")
        # The day it was recorded, fixed, so the alert window does not depend on when the tests run.
        con.execute("UPDATE ops.compliance_facts SET recorded_at = ?", [PAID_RECORDED_AT])
    finally:
        con.close()


def members_file(folder: Path) -> Path:
    path = folder / "star_members.csv"
    path.write_text(f"name,uscc\n{NAMES[MEMBER]},{MEMBER}\n", "utf-8")
    return path


def copy_warehouse(template: Path, target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / template.name
    shutil.copyfile(template, target)
    return target


def removal_dates(warehouse: Path, key: str) -> tuple[date, date]:
    """(early_removal_from, auto_removal_on) the removal rules gave the penalty with natural key `key`."""
    con = connect(warehouse, read_only=True)
    try:
        return con.execute("SELECT early_removal_from, auto_removal_on FROM core.removal_status WHERE record_id = ?",
                           [rid("creditchina_penalties", key)]).fetchone()
    finally:
        con.close()
