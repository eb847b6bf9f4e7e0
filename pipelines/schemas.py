"""Field schemas per record type: which fields a record carries, their kind, and which are required.

Kinds name the normaliser that types a raw value (see `pipelines.stages.NORMALISERS`):
text, name, date, amount_yuan, amount_wan (a 双公示 column in 万元), uscc, licence_no,
personal_id (masked at ingest), long_text (free text, personal ID numbers masked inside),
and nested lists of sub-records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    kind: str
    required: bool = False
    # For kind == "list": the schema of each element.
    of: dict[str, Field] | None = None


LICENCE = {
    # licence -- 电信业务经营许可证 (MIIT dxxzsp getcorpinfo.wf + getreporty)
    "licence_no": Field("licence_no", required=True),  # 许可证编号
    "company_name": Field("name", required=True),  # 公司名称
    "uscc": Field("uscc"),  # 统一社会信用代码 (from the annual report)
    "legal_rep": Field("text"),  # 法定代表人 (a person's name: minimum kept, never exported)
    "issuer": Field("text"),  # 发证机关
    "business_types": Field(
        "list",
        required=True,
        of={
            "business_type": Field("text", required=True),  # 业务种类
            "coverage": Field("text"),  # 覆盖范围
            "issued_on": Field("date"),  # 发证日期
            "expires_on": Field("date", required=True),  # 截止日期
        },
    ),
}

SCHEMAS: dict[str, dict[str, Field]] = {
    "licence": LICENCE,
}
