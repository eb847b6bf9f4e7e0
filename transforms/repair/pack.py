"""The application pack (信用修复申请材料) of a repair case, written to exports/repair/<case>/:

- 信用修复申请书.docx and 信用承诺书.docx, rendered by docxtpl from the Word templates kept as data in
  transforms/repair/templates/ (edit them in Word; the {{ fields }} are listed in FIELDS);
- 材料清单.md: the materials to prepare and where to apply (seeds/repair_materials.csv), and the fields
  the warehouse lacks.
Every field comes from the warehouse: the operator (core.licensed_operators), the record
(core.operator_records) and what the team recorded (`creditwatch facts`, ops.compliance_facts). A field the
warehouse lacks is printed as BLANK, visibly, and listed in the checklist and the command's output, never
guessed. The pack is written to a temporary folder and moved into place whole: a failure leaves the
previous pack (or none) as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from docxtpl import DocxTemplate

from transforms.repair.cases import get_case

TEMPLATES = Path(__file__).parent / "templates"
DOCUMENTS = ("信用修复申请书", "信用承诺书")
CHECKLIST = "材料清单.md"
BLANK = "＿＿＿＿＿＿（待补充）"
# field → its Chinese name (what the checklist lists when the warehouse lacks it).
FIELDS: dict[str, str] = {
    "case_id": "案件编号",
    "applicant_name": "申请人名称",
    "applicant_uscc": "统一社会信用代码",
    "licence_numbers": "电信业务经营许可证编号",
    "legal_rep": "法定代表人",
    "address": "住所",
    "contact_person": "联系人",
    "contact_phone": "联系电话",
    "record_type_label": "信息类型",
    "party_name": "当事人（公示所载）",
    "reference": "决定文书号",
    "authority": "作出决定机关",
    "decision_date": "决定（列入）日期",
    "published_date": "公示日期",
    "content": "处罚（列入）内容",
    "obligations_done_date": "履行完毕日期",
    "corrected_date": "整改完成日期",
    "performance_note": "履行情况说明",
    "early_removal_from": "可申请修复日期",
    "removal_basis": "公示期限依据",
    "where_to_apply": "受理机关 / 申请途径",
    "application_date": "申请日期",
}
# Fields no registry publishes and the warehouse does not keep (法定代表人 is personal data it does not hold
# for operators; the rest are the applicant's own), and the date the applicant signs.
NOT_IN_WAREHOUSE = ("legal_rep", "address", "contact_person", "contact_phone", "application_date")

PACK_SQL = """
WITH facts AS (
    SELECT * FROM ops.compliance_facts
    QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY recorded_at DESC) = 1
)
SELECT o.name AS applicant_name, o.uscc AS applicant_uscc,
       array_to_string(o.licence_numbers, '、') AS licence_numbers,
       t.label_zh AS record_type_label, r.subject_name AS party_name, r.reference, r.authority,
       r.event_on AS decision_date, r.published_on AS published_date, r.summary AS content,
       f.obligations_done_date, f.corrected_date, f.note AS performance_note,
       r.early_removal_from, r.basis AS removal_basis, m.where_to_apply, m.materials, m.basis AS materials_basis
FROM core.operator_records r
JOIN core.licensed_operators o USING (operator_id)
LEFT JOIN seeds.record_types t USING (record_type)
LEFT JOIN seeds.repair_materials m ON m.record_type = r.record_type AND m.platform = r.platform
LEFT JOIN facts f USING (record_id)
WHERE r.record_id = ? AND r.operator_id IS NOT DISTINCT FROM ?
"""


class PackError(RuntimeError):
    """The pack cannot be written; the message names the case and why."""


@dataclass
class Pack:
    case_id: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # Chinese names of the fields left blank
    materials: list[str] = field(default_factory=list)
    where_to_apply: str | None = None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    text = str(value).strip()
    return text or None


def legal_basis(text: str | None) -> str | None:
    """The rule's citation without the engine's grading and notes (" [S]; unconfirmed: …"): what a letter cites."""
    if not text:
        return None
    return text.split(" [", 1)[0].split("；", 1)[0].strip() or None


def pack_fields(con: duckdb.DuckDBPyConnection, case_id: str) -> tuple[dict[str, str | None], dict[str, Any]]:
    """(the template fields, None where the warehouse lacks them; the seed's materials row)."""
    case = get_case(con, case_id)
    rows = con.execute(PACK_SQL, [case.record_id, case.operator_id])
    names = [c[0] for c in rows.description]
    found = rows.fetchall()
    if not found:
        raise PackError(f"case {case.case_id}: record {case.record_id} is no longer on operator "
                        f"{case.operator_id} in the warehouse (purged or relinked); the pack cannot be filled")
    row = dict(zip(names, found[0], strict=True))
    values: dict[str, str | None] = {name: _text(row.get(name)) for name in FIELDS}
    values["case_id"] = case.case_id
    values["removal_basis"] = legal_basis(row.get("removal_basis"))
    for name in NOT_IN_WAREHOUSE:
        values[name] = None
    return values, {"materials": row["materials"], "where_to_apply": row["where_to_apply"],
                    "basis": row["materials_basis"]}


def _checklist(case_id: str, values: dict[str, str | None], seed: dict[str, Any], missing: list[str]) -> str:
    materials = [m.strip() for m in (seed["materials"] or "").split(";") if m.strip()]
    lines = [f"# {case_id} 信用修复材料清单", "",
             f"- 申请人：{values['applicant_name'] or BLANK}（{values['applicant_uscc'] or BLANK}）",
             f"- 失信信息：{values['record_type_label'] or BLANK} {values['reference'] or BLANK}"
             f"（{values['authority'] or BLANK}）",
             f"- 申请途径：{seed['where_to_apply'] or BLANK}",
             f"- 依据：{seed['basis'] or BLANK}", "", "## 需准备的材料", ""]
    lines += [f"- [ ] {m}" for m in materials] or ["- （材料种子表中无此类记录的材料，需向受理机关确认）"]
    lines += ["", "## 仓库中没有、需手工补充的字段", ""]
    lines += [f"- {name}" for name in missing] or ["- 无"]
    return "\n".join(lines) + "\n"


def write_pack(con: duckdb.DuckDBPyConnection, case_id: str, out_root: Path) -> Pack:
    """Render the case's documents and checklist into out_root/<case_id>/ (replacing a previous pack whole)."""
    values, seed = pack_fields(con, case_id)
    missing = [label for name, label in FIELDS.items() if values[name] is None]
    context = {name: value if value is not None else BLANK for name, value in values.items()}
    target = Path(out_root) / values["case_id"]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name in DOCUMENTS:
            document = DocxTemplate(TEMPLATES / f"{name}.docx")
            document.render(context, autoescape=True)
            document.save(staging / f"{name}.docx")
        (staging / CHECKLIST).write_text(_checklist(values["case_id"], values, seed, missing), "utf-8")
        # The previous pack steps aside before the new one moves in, and is deleted only once it has.
        previous = target.with_name(f".{target.name}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        if target.exists():
            target.rename(previous)
        try:
            staging.rename(target)
        except OSError:
            if previous.exists():
                previous.rename(target)
            raise
        shutil.rmtree(previous, ignore_errors=True)
    except Exception as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise PackError(f"case {values['case_id']}: the pack could not be written to {target}: {error}") from error
    files = [target / f"{name}.docx" for name in DOCUMENTS] + [target / CHECKLIST]
    materials = [m.strip() for m in (seed["materials"] or "").split(";") if m.strip()]
    return Pack(values["case_id"], target, files, missing, materials, seed["where_to_apply"])
