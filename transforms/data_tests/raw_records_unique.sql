-- A record is held once (the load keeps record_id unique; raw.records has no primary key since migration 009).
SELECT record_id FROM raw.records GROUP BY record_id HAVING count(*) > 1
