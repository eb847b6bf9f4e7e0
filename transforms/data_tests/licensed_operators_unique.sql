-- Every operator appears once in core.licensed_operators.
SELECT operator_id FROM core.licensed_operators GROUP BY operator_id HAVING count(*) > 1
