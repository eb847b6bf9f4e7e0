-- source_incomplete -- 数据源连续未抓全 (for the schedule's operator): a source ended incomplete in two
-- consecutive runs. One event per streak of incomplete runs, raised at the streak's second run.
WITH runs AS (
    SELECT s.source, s.run_id, r.crawled_at, s.complete, array_to_string(s.incomplete_reasons, '；') AS reasons,
           row_number() OVER (PARTITION BY s.source ORDER BY r.crawled_at, s.run_id) AS n
    FROM ops.source_runs s
    JOIN ops.runs r USING (run_id)
),
incomplete AS (   -- consecutive incomplete runs of a source share `streak`
    SELECT *, n - row_number() OVER (PARTITION BY source ORDER BY n) AS streak FROM runs WHERE NOT complete
),
streaks AS (
    SELECT source, streak, count(*) AS runs, arg_min(run_id, n) AS first_run, arg_max(run_id, n) AS last_run,
           arg_max(reasons, n) AS last_reasons, list(crawled_at ORDER BY n)[2] AS second_at
    FROM incomplete
    GROUP BY source, streak
)
SELECT source AS subject, first_run AS discriminator, second_at AS occurred_at, source AS reference,
       '连续 ' || runs || ' 次运行未抓取完整（最近 ' || last_run || '）：' || left(last_reasons, 300) AS detail
FROM streaks
WHERE runs >= 2 AND second_at >= $since
