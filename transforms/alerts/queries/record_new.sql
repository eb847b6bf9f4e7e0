-- record_new -- 新增记录: a record first seen after its source's first complete crawl. Entries on the lists
-- that make an operator critical are `listed` instead.
SELECT a.*, a.record_id AS subject, '' AS discriminator, a._first_seen_at AS occurred_at
FROM alert_records a
JOIN alert_source_baseline b ON b.source = a._source
WHERE a._first_seen_at > b.first_complete
  AND a._first_seen_at >= $since
  AND NOT list_contains($listing_types, a.record_type)
