-- record_removed -- 记录撤下 (good news): a complete crawl of the record's source no longer shows it
-- (display stopped, or repaired). One event per removal: a record back and gone again is a new event.
SELECT a.*, a.record_id AS subject, r.removed_run_id AS discriminator, r.removed_at AS occurred_at,
       '登记平台已不再公示此记录（' || strftime(r.removed_at, '%Y-%m-%d') || ' 完整抓取未见）' AS detail
FROM raw.records r
JOIN alert_records a USING (record_id)
WHERE r.removed_at >= $since
