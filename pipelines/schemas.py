"""How an item schema is written (`Field`), and the national 双公示 penalty schema several sources share.

Each source declares the schema of every item type it yields in `spiders/<source>/fields.py` (`FIELDS`);
the normalise pipeline reads it from the running spider (or is given it, for a file).

Kinds name the normaliser that types a raw value (see `pipelines.item_pipelines.NORMALISERS`):
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


# Every item type names a subject: `subject_name` and `subject_uscc` are what the linker reads.

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
