-- repair_eligible -- 可申请信用修复: a shown record whose early removal can be applied for now. It happened
-- on the latest of: the day the minimum period ended, the day the team recorded the fact that met the
-- conditions (`creditwatch facts`), the day the record was first seen. One event per eligibility date.
WITH facts AS (
    SELECT record_id, max(recorded_at) AS recorded_at FROM ops.compliance_facts GROUP BY record_id
),
eligible AS (
    SELECT a.*, greatest(a.early_removal_from::TIMESTAMP, f.recorded_at, a._first_seen_at) AS became_at
    FROM alert_records a
    LEFT JOIN facts f USING (record_id)
    WHERE a._removal_status = 'eligible' AND a._removed_at IS NULL AND a.early_removal_from IS NOT NULL
)
SELECT e.* EXCLUDE (became_at), e.record_id AS subject, e.early_removal_from::VARCHAR AS discriminator,
       e.became_at AS occurred_at,
       '自 ' || e.early_removal_from || ' 起可申请提前停止公示（信用修复）' AS detail
FROM eligible e
WHERE e.became_at >= $since
