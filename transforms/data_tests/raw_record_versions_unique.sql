-- A record's version is held once (raw.record_versions has no primary key since migration 009).
SELECT record_id FROM raw.record_versions GROUP BY record_id, version HAVING count(*) > 1
