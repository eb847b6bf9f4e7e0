-- weekly_changes -- 本周变化: records new, changed or removed in the seven days up to the as-of date
-- (calendar days as-of − 6 … as-of, so last Monday's 06:00 run belongs to last week), with the operator
-- each is linked to (NULL when it belongs to none).
WITH window_ AS (
    SELECT getvariable('as_of') - INTERVAL 6 DAY AS since, getvariable('as_of') + INTERVAL 1 DAY AS until
),
changes AS (
    SELECT record_id, 'new' AS change, first_seen_at AS changed_at FROM core.credit_records, window_
    WHERE first_seen_at >= since AND first_seen_at < until
    UNION ALL
    SELECT v.record_id, 'changed', v.seen_at FROM raw.record_versions v, window_
    WHERE v.version > 1 AND v.seen_at >= since AND v.seen_at < until
    UNION ALL
    SELECT record_id, 'removed', removed_at FROM core.credit_records, window_
    WHERE removed_at >= since AND removed_at < until
)
SELECT
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
LEFT JOIN core.licensed_operators o ON o.operator_id = l.operator_id AND l.status = 'linked'
ORDER BY c.change, c.changed_at DESC
