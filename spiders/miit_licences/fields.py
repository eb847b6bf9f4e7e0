"""Item schema of miit_licences: a telecom business licence -- 电信业务经营许可证 (getcorpinfo.wf rows
and the annual report's 统一社会信用代码, registries.md §3.1, §7.3)."""

from __future__ import annotations

from pipelines.schemas import Field

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

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"licence": LICENCE}
