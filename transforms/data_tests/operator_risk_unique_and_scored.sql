-- One row per licensed operator, and dimension 1 is one of the four scores of the evaluation method.
SELECT operator_id FROM marts.operator_risk GROUP BY operator_id HAVING count(*) > 1
UNION ALL
SELECT operator_id FROM marts.operator_risk WHERE cloud_rating_dimension1 NOT IN (0, 10, 20, 30)
UNION ALL
SELECT operator_id FROM core.licensed_operators EXCEPT SELECT operator_id FROM marts.operator_risk
