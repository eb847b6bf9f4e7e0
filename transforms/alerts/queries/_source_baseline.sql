-- alert_source_baseline -- when each source was first crawled completely. Everything seen up to then is
-- the starting state (new to us, not new in the world); only records first seen later are "new".
SELECT s.source, min(r.crawled_at) AS first_complete
FROM ops.source_runs s
JOIN ops.runs r USING (run_id)
WHERE s.complete
GROUP BY s.source
