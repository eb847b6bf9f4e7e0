-- One row per licensed operator; dimension 1 is one of the levels of the evaluation method
-- (seeds.cloud_rating_dimension1) and says which records decided it.
SELECT operator_id FROM marts.operator_risk GROUP BY operator_id HAVING count(*) > 1
UNION ALL
SELECT operator_id FROM marts.operator_risk
WHERE cloud_rating_dimension1 IS NULL
   OR CAST(cloud_rating_dimension1 AS VARCHAR) NOT IN (
       SELECT score FROM seeds.cloud_rating_dimension1 WHERE score IS NOT NULL)
   OR cloud_rating_dimension1_reasons IS NULL
UNION ALL
SELECT operator_id FROM core.licensed_operators EXCEPT SELECT operator_id FROM marts.operator_risk
