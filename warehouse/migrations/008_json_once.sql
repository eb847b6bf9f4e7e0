-- 008: a record's content is stored once (issue 18). raw.records holds the current version's raw_json and
-- fields_json; raw.record_versions holds them only for versions a later one replaced (NULL for the current
-- version, whose content is raw.records's). raw.record_version_contents reads every version with its content.
ALTER TABLE raw.record_versions ALTER COLUMN raw_json DROP NOT NULL;
ALTER TABLE raw.record_versions ALTER COLUMN fields_json DROP NOT NULL;
UPDATE raw.record_versions v SET raw_json = NULL, fields_json = NULL
FROM raw.records r WHERE r.record_id = v.record_id AND r.version = v.version;

-- record_version_contents -- every version of every record, with its content (raw.record_versions, the
-- current version's content taken from raw.records)
CREATE OR REPLACE VIEW raw.record_version_contents AS
SELECT v.record_id, v.version, v.content_hash, v.run_id, v.seen_at,
       coalesce(v.raw_json, r.raw_json) AS raw_json, coalesce(v.fields_json, r.fields_json) AS fields_json
FROM raw.record_versions v
LEFT JOIN raw.records r ON r.record_id = v.record_id AND r.version = v.version;
