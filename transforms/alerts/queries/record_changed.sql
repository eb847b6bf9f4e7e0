-- record_changed -- 记录变更: a new version of a record whose typed fields changed (a listing that now shows
-- its removal, a corrected amount). One event per version; the detail lists each field, old → new.
WITH versions AS (
    SELECT v.record_id, v.version, v.seen_at, p.fields_json AS old, v.fields_json AS new,
           list_filter(list_sort(list_distinct(json_keys(p.fields_json) || json_keys(v.fields_json))),
                       lambda k: json_extract(p.fields_json, '$.' || k)
                                 IS DISTINCT FROM json_extract(v.fields_json, '$.' || k)) AS fields
    FROM raw.record_version_contents v
    JOIN raw.record_version_contents p ON p.record_id = v.record_id AND p.version = v.version - 1
    WHERE v.version > 1 AND v.seen_at >= $since
)
SELECT a.*, a.record_id AS subject, v.version::VARCHAR AS discriminator, v.seen_at AS occurred_at,
       '变更：' || array_to_string(list_transform(v.fields, lambda k:
           k || ' ' || coalesce(left(json_extract_string(v.old, '$.' || k), 40), '（空）') || ' → '
             || coalesce(left(json_extract_string(v.new, '$.' || k), 40), '（空）')), '；') AS detail
FROM versions v
JOIN alert_records a USING (record_id)
WHERE len(v.fields) > 0
