-- 009: raw.records and raw.record_versions without primary keys (issue 18). DuckDB backs a primary key with
-- an in-memory ART index that a write loads whole: at 10M records the two took ~1 GiB of the 2.5 GB the
-- weekly load may use, which then ran out of memory. The keys are kept by the load instead (a file whose
-- record_ids repeat or name another source is refused, and a record is inserted only when the anti-join
-- finds it absent), and checked by the data tests raw_records_unique and raw_record_versions_unique.
-- DuckDB cannot drop a primary key, so each table is rebuilt (same columns, order and NOT NULLs).
CREATE TABLE raw.records_009 (
    record_id       VARCHAR NOT NULL,     -- hash of source + the source's own natural key (unique)
    source          VARCHAR NOT NULL,
    record_type     VARCHAR NOT NULL,
    natural_key     VARCHAR NOT NULL,
    url             VARCHAR,
    content_hash    VARCHAR NOT NULL,
    version         INTEGER NOT NULL,
    raw_json        JSON NOT NULL,
    fields_json     JSON NOT NULL,
    first_seen_at   TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    first_run_id    VARCHAR NOT NULL,
    last_run_id     VARCHAR NOT NULL,
    removed_at      TIMESTAMP,
    removed_run_id  VARCHAR
);
INSERT INTO raw.records_009 SELECT * FROM raw.records;
DROP TABLE raw.records;
ALTER TABLE raw.records_009 RENAME TO records;

CREATE TABLE raw.record_versions_009 (
    record_id    VARCHAR NOT NULL,        -- (record_id, version) unique
    version      INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    run_id       VARCHAR NOT NULL,
    seen_at      TIMESTAMP NOT NULL,
    raw_json     JSON,                    -- NULL for the current version (008)
    fields_json  JSON
);
INSERT INTO raw.record_versions_009 SELECT * FROM raw.record_versions;
DROP TABLE raw.record_versions;
ALTER TABLE raw.record_versions_009 RENAME TO record_versions;
