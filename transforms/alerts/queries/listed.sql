-- listed -- 列入名单: a new entry on a 两单 list (电信业务经营不良名单 / 失信名单) or a dishonesty list
-- (严重违法失信名单, 失信被执行人) — critical. "New" as in record_new.
SELECT a.*, a.record_id AS subject, '' AS discriminator, a._first_seen_at AS occurred_at
FROM alert_records a
JOIN alert_source_baseline b ON b.source = a._source
WHERE a._first_seen_at > b.first_complete
  AND a._first_seen_at >= $since
  AND list_contains($listing_types, a.record_type)
