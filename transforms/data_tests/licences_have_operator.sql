-- Every current licence belongs to an operator in core.licensed_operators, and has an expiry date.
SELECT l.record_id FROM core.licences l
LEFT JOIN core.licensed_operators o USING (operator_id)
WHERE o.operator_id IS NULL OR l.expires_on IS NULL
