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

# Every record type below names a subject: `subject_name` and `subject_uscc` are what the linker reads.

PENALTY = {
    # penalty -- 行政处罚, on the 双公示 26-column template (registries.md §1.4); the comment names the
    # template key. Amounts come in 元 or in 万元 (罚款金额(万元)): a spider fills the field for its unit.
    "decision_no": Field("text", required=True),  # cfWsh 行政处罚决定书文号
    "subject_name": Field("name", required=True),  # cfXdrMc 行政相对人名称
    "subject_uscc": Field("uscc"),  # cfXdrShxym 统一社会信用代码
    "subject_reg_no": Field("text"),  # cfXdrGszc 工商注册号
    "legal_rep": Field("text"),  # cfFrdb 法定代表人 (personal data)
    "legal_rep_id": Field("personal_id"),  # cfFrSfzh 法定代表人身份证号 (masked)
    "subject_id_type": Field("text"),  # cfXdrZjlxText 证件类型 (natural persons)
    "subject_id_number": Field("personal_id"),  # cfXdrZjhm 证件号码 (masked)
    "violation_type": Field("text"),  # cfWfxw 违法行为类型
    "facts": Field("long_text"),  # cfSy 违法事实 (ID numbers masked inside)
    "basis": Field("long_text"),  # cfYj 处罚依据
    "penalty_kinds_text": Field("text"),  # cfCflbText 处罚类别
    "content": Field("long_text"),  # cfNr 处罚内容
    "fine_yuan": Field("amount_yuan"),  # 罚款金额, in 元
    "fine_wan": Field("amount_wan"),  # cfNrFk 罚款金额(万元)
    "confiscated_yuan": Field("amount_yuan"),  # 没收违法所得、没收非法财物的金额, in 元
    "confiscated_wan": Field("amount_wan"),  # cfNrWfff, in 万元
    "licence_affected": Field("text"),  # cfNrZkdx 暂扣或吊销证照名称及编号
    "decided_on": Field("date", required=True),  # cfJdrq 处罚决定日期
    "valid_until": Field("date"),  # cfYxq 处罚有效期
    "publish_until": Field("date"),  # cfGsjzq 公示截止期
    "published_on": Field("date"),  # date first published, where the source says
    "authority": Field("text", required=True),  # cfCfjg 处罚机关
    "authority_uscc": Field("uscc"),  # cfCfjgdm 处罚机关统一社会信用代码
    "data_source": Field("text"),  # cfSjly 数据来源单位
    "domain": Field("text"),  # general | food | drug | special_equipment | work_safety | fire | telecom
    "note": Field("long_text"),  # bz 备注
}

ABNORMAL_OPERATION = {
    # abnormal_operation -- 经营异常名录 (公示系统 entBusExcep; registries.md §2.2)
    "subject_name": Field("name", required=True),
    "subject_uscc": Field("uscc"),
    "reason": Field("long_text", required=True),  # speCause_CN 列入经营异常名录原因
    "listed_on": Field("date", required=True),  # abntime 列入日期
    "authority": Field("text"),  # decOrg_CN 作出决定机关(列入)
    "removal_reason": Field("long_text"),  # remExcpRes_CN 移出经营异常名录原因
    "removed_on": Field("date"),  # remDate 移出日期
    "removal_authority": Field("text"),  # reDecOrg_CN 作出决定机关(移出)
}

SERIOUS_ILLEGAL_LIST = {
    # serious_illegal_list -- 严重违法失信名单 (公示系统 illInfo)
    "subject_name": Field("name", required=True),
    "subject_uscc": Field("uscc"),
    "reason": Field("long_text", required=True),  # serILLRea_CN 列入原因
    "listed_on": Field("date", required=True),  # abntime 列入日期
    "authority": Field("text"),  # decOrg_CN 作出决定机关
    "removal_reason": Field("long_text"),
    "removed_on": Field("date"),
    "removal_authority": Field("text"),
}

TELECOM_LIST_ENTRY = {
    # telecom_list_entry -- 电信业务经营不良名单 / 失信名单 entry from an MIIT notice (registries.md §3.2)
    "list_kind": Field("text", required=True),  # bad (不良名单) | dishonest (失信名单)
    "subject_name": Field("name", required=True),  # 经营者名称
    "subject_uscc": Field("uscc"),  # 统一社会信用代码
    "licence_no": Field("licence_no"),  # 许可证编号
    "decided_on": Field("date"),  # 处理日期
    "reason": Field("long_text"),  # 列入事由
    "unit": Field("text"),  # 列入单位
    "notice_title": Field("text"),
    "notice_url": Field("text"),
    "notice_published_on": Field("date", required=True),
}

COURT_DISHONEST = {
    # court_dishonest -- 失信被执行人 (中国执行信息公开网; registries.md §4.1)
    "case_code": Field("text", required=True),  # caseCode 案号
    "subject_name": Field("name", required=True),  # iname 被执行人姓名/名称
    "subject_uscc": Field("uscc"),  # cardNum, for organisations
    "subject_id_number": Field("personal_id"),  # cardNum, for persons (masked)
    "legal_rep": Field("text"),  # businessEntity 法定代表人
    "court": Field("text"),  # courtName 执行法院
    "area": Field("text"),  # areaName 省份
    "gist_id": Field("text"),  # gistId 执行依据文号
    "gist_unit": Field("text"),  # gistUnit 做出执行依据单位
    "duty": Field("long_text"),  # duty 生效法律文书确定的义务
    "performance": Field("text"),  # performance 履行情况
    "disrupt_type": Field("long_text"),  # disruptTypeName 失信行为具体情形
    "registered_on": Field("date"),  # regDate 立案时间
    "published_on": Field("date", required=True),  # publishDate 发布时间
}

SCHEMAS: dict[str, dict[str, Field]] = {
    "licence": LICENCE,
    "penalty": PENALTY,
    "abnormal_operation": ABNORMAL_OPERATION,
    "serious_illegal_list": SERIOUS_ILLEGAL_LIST,
    "telecom_list_entry": TELECOM_LIST_ENTRY,
    "court_dishonest": COURT_DISHONEST,
}
