-- 001: the warehouse's own tables. Staging, core and marts are rebuilt by transforms/.

CREATE SCHEMA IF NOT EXISTS ops;   -- how runs went
CREATE SCHEMA IF NOT EXISTS raw;   -- what the registries published, with history

-- runs -- one row per crawl run loaded (a rerun of the same run_id changes nothing)
CREATE TABLE ops.runs (
    run_id          VARCHAR PRIMARY KEY,
    crawled_at      TIMESTAMP NOT NULL,   -- when the crawl finished (the run's clock for history)
    loaded_at       TIMESTAMP NOT NULL,
    sources         VARCHAR[] NOT NULL,
    complete        BOOLEAN NOT NULL,     -- every source complete
    records_new     INTEGER NOT NULL,
    records_changed INTEGER NOT NULL,
    records_removed INTEGER NOT NULL,
    quarantined     INTEGER NOT NULL
);

-- source_runs -- one row per source per run, from the crawl manifest
CREATE TABLE ops.source_runs (
    run_id             VARCHAR NOT NULL,
    source             VARCHAR NOT NULL,
    complete           BOOLEAN NOT NULL,
    incomplete_reasons VARCHAR[] NOT NULL,
    pages_fetched      INTEGER,
    pages_failed       INTEGER,
    retries            INTEGER,
    items              INTEGER,
    quarantined        INTEGER,
    expected_rows      INTEGER,
    started_at         TIMESTAMP,
    finished_at        TIMESTAMP,
    PRIMARY KEY (run_id, source)
);

-- records -- every record ever published, current version; removed_at set when a COMPLETE crawl
-- of its source no longer shows it (display stopped or repaired)
CREATE TABLE raw.records (
    record_id       VARCHAR PRIMARY KEY,  -- hash of source + the source's own natural key
    source          VARCHAR NOT NULL,
    record_type     VARCHAR NOT NULL,
    natural_key     VARCHAR NOT NULL,
    url             VARCHAR,
    content_hash    VARCHAR NOT NULL,
    version         INTEGER NOT NULL,
    raw_json        JSON NOT NULL,        -- the row as published (personal ID numbers masked)
    fields_json     JSON NOT NULL,        -- typed and cleaned by pipelines/
    first_seen_at   TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    first_run_id    VARCHAR NOT NULL,
    last_run_id     VARCHAR NOT NULL,
    removed_at      TIMESTAMP,
    removed_run_id  VARCHAR
);

-- record_versions -- every distinct content a record has had, and the run that first saw it
CREATE TABLE raw.record_versions (
    record_id    VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    run_id       VARCHAR NOT NULL,
    seen_at      TIMESTAMP NOT NULL,
    raw_json     JSON NOT NULL,
    fields_json  JSON NOT NULL,
    PRIMARY KEY (record_id, version)
);

-- quarantine -- what a crawl could not accept, with the reason; never silently dropped
CREATE TABLE raw.quarantine (
    run_id      VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    record_id   VARCHAR,
    record_type VARCHAR,
    natural_key VARCHAR,
    url         VARCHAR,
    fetched_at  VARCHAR,
    field       VARCHAR,
    raw_value   VARCHAR,
    reason      VARCHAR NOT NULL,
    raw_json    JSON
);
