-- run_failed -- 运行失败 (for the schedule's operator): a run in which a crawl crashed, or the load,
-- transform or export raised (ops.run_failures, written by the flow). One event per run.
SELECT run_id AS subject, '' AS discriminator, min(failed_at) AS occurred_at, run_id AS reference,
       string_agg(stage || coalesce('（' || source || '）', '') || '：' || left(error, 300), '；'
                  ORDER BY failed_at, stage, source) AS detail
FROM ops.run_failures
GROUP BY run_id
HAVING min(failed_at) >= $since
