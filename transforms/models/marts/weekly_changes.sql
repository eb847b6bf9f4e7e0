-- weekly_changes -- 每周变化: every record new, changed or removed up to the as-of date, with the reporting
-- week it happened in (`reporting_week`: the ISO week, Monday to Sunday, China Standard Time; the macro
-- and its definition are in transforms/reporting.py) and the operator each is linked to (NULL when it
-- belongs to none; for a link to review, the candidate). The workbook's 本周新增 and the report read it.
WITH changes AS (
    SELECT record_id, 'new' AS change, first_seen_at AS changed_at FROM core.credit_records
    UNION ALL
    SELECT record_id, 'changed', seen_at FROM raw.record_versions WHERE version > 1
    UNION ALL
    SELECT record_id, 'removed', removed_at FROM core.credit_records WHERE removed_at IS NOT NULL
)
SELECT
    reporting_week(reporting_day(c.changed_at))   AS reporting_week,
    c.change,
    c.changed_at,
    l.operator_id,
    o.name                                        AS operator_name,
    l.status                                      AS link_status,
    r.record_type,
    r.platform,
    r.reference,
    r.display_name                                AS subject_name,
    r.event_on,
    r.authority,
    r.summary,
    r.url,
    r.record_id
FROM changes c
JOIN core.credit_records r USING (record_id)
LEFT JOIN core.record_links l USING (record_id)
LEFT JOIN core.licensed_operators o ON o.operator_id = l.operator_id
WHERE reporting_day(c.changed_at) <= getvariable('as_of')
-- no ORDER BY: each reader orders what it reads (sorting ~1M wide rows was two thirds of this model's time)
