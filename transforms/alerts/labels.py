"""Words an alert shows, and which record types make a new entry critical — read from the record-type
declarations (spiders/<source>/source.yml through spiders.source.record_types, the same home as
seeds.record_types), through these two functions only.
"""

from __future__ import annotations

from spiders.source import record_types


def record_type_label(record_type: str | None, lang: str = "zh") -> str:
    """记录类型 in words (行政处罚, 经营异常名录 …); an unknown code is shown as itself."""
    if not record_type:
        return ""
    declared = record_types().get(record_type)
    if declared is None:
        return record_type
    return declared.label_zh if lang == "zh" else declared.label_en


def listing_types() -> list[str]:
    """Record types whose new entries are `listed` events (critical): the dishonesty lists (失信名单,
    失信被执行人, 严重违法失信名单 …) and the lists that stand in the way of a licence renewal (两单: the
    telecom 不良名单 and 失信名单), as their source.yml flags them."""
    return sorted(t.name for t in record_types().values() if t.dishonest_list or t.blocks_licence_renewal)
