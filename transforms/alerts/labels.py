"""Words an alert shows: record-type labels and which record types put an operator on a critical list.

Record-type labels are read through `record_type_label` only. Today they live in transforms/export.py
(LABELS); when they move to the generated seed `seeds.record_types` (record_type, label_zh, label_en,
dishonest_list, …), these two functions are the only lines to change.
"""

from __future__ import annotations

from transforms.export import DISHONEST_TYPES, LABELS

# 两单: the telecom 不良名单 and 失信名单 (《电信业务经营不良名单和失信名单管理办法》). With the dishonesty
# lists (DISHONEST_TYPES: 失信名单, 失信被执行人, 严重违法失信名单) a new entry is a critical alert.
TWO_LISTS = frozenset({"telecom_bad_list", "telecom_dishonest_list"})


def record_type_label(record_type: str | None, lang: str = "zh") -> str:
    """记录类型 in words (行政处罚, 经营异常名录 …); an unknown code is shown as itself."""
    if not record_type:
        return ""
    labels = LABELS["record_type"].get(record_type)
    return (labels[0] if lang == "zh" else labels[1]) if labels else record_type


def listing_types() -> list[str]:
    """Record types whose new entries are `listed` events (critical): 两单 and the dishonesty lists."""
    return sorted(TWO_LISTS | DISHONEST_TYPES)
