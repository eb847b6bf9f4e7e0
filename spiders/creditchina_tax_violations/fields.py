"""Item schema of creditchina_tax_violations: a 重大税收违法失信主体 case (catalogue table credit_swzj_fr_zdsswfajdsr,
registries.md §1.2, §7.8; labels as chige007/Crawier `analyze.js` gives them)."""

from __future__ import annotations

from pipelines.schemas import Field

TAX_MAJOR_VIOLATION = {
    # tax_major_violation -- 重大税收违法失信主体
    "subject_name": Field("name", required=True),  # nsrmc 纳税人名称
    "subject_uscc": Field("uscc"),  # tyshxydm 统一社会信用代码
    "taxpayer_id": Field("text"),  # nsrsbh 纳税人识别号
    "org_code": Field("text"),  # zzjgdm 组织机构代码
    "reporting_period": Field("text", required=True),  # ajsbq 案件上报期, as published
    "reported_on": Field("date", required=True),  # the first day of 案件上报期's month (our reading)
    "address": Field("text"),  # zcdz 注册地址 (of the organisation)
    "legal_rep": Field("text"),  # fddbrhzfzrmc 法定代表人或负责人姓名: personal data, kept masked (王*)
    "finance_head": Field("text"),  # fyzjzrdcwfzrxm 负有直接责任的财务负责人姓名: personal data, kept masked
    "intermediary_withheld": Field("text"),  # fyzjzrdzjjgxxjqcyryxx 中介机构及其从业人员: names people, not kept
    "case_nature": Field("text", required=True),  # ajxz 案件性质
    "facts": Field("long_text"),  # zywfss 主要违法事实 (ID numbers masked inside)
    "basis_and_penalty": Field("long_text"),  # xgflyjj_swclcfqk 相关法律依据及税务处理处罚情况
    "data_source": Field("text"),  # dataSource 数据来源
}

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"tax_major_violation": TAX_MAJOR_VIOLATION}
