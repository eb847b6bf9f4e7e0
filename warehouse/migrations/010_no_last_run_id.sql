-- 010: raw.records without last_run_id (issue 18). Every load set it on every record it saw, and at 10M records
-- DuckDB held those string updates in memory (~330 MB) until the commit, which the build after the load then
-- lacked. The run that last saw a record is the run of its source whose crawled_at is its last_seen_at
-- (ops.source_runs joined to ops.runs); a complete crawl marks removed its source's records absent from its file.
ALTER TABLE raw.records DROP COLUMN last_run_id;
