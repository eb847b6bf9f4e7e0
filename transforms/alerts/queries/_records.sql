-- alert_records -- every credit record, linked to a licensed operator or not (file watchlists may name
-- companies that hold no licence), in the shape the record event queries share. Columns starting with
-- "_" are helpers: the event computation drops them.
SELECT
    c.record_id,
    l.operator_id,                                                     -- the licensed operator, else NULL
    coalesce(o.name, c.display_name)                        AS company,   -- 企业
    CASE WHEN o.name IS NOT NULL AND c.display_name <> o.name
         THEN c.display_name END                            AS party,     -- 当事人, when it is not the operator
    c.record_type,
    c.reference,
    c.authority,                                                        -- 决定机关
    c.event_on,                                                         -- 决定/列入日期
    -- An individual's details never leave the warehouse in a message (PIPL): the summary is left out.
    CASE WHEN c.is_personal THEN NULL ELSE c.summary END    AS summary,   -- 处罚内容摘要
    s.early_removal_from,                                               -- 可申请修复日
    s.auto_removal_on,                                                  -- 到期停止公示日
    c.url,
    c.source                                                AS _source,
    c.first_seen_at                                         AS _first_seen_at,
    c.removed_at                                            AS _removed_at,
    s.status                                                AS _removal_status
FROM core.credit_records c
LEFT JOIN core.record_links l ON l.record_id = c.record_id AND l.status = 'linked'
LEFT JOIN core.licensed_operators o ON o.operator_id = l.operator_id
LEFT JOIN core.removal_status s ON s.record_id = c.record_id
