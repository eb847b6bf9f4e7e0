-- Every subject record has exactly one link row, and linked rows name a licensed operator.
SELECT s.record_id FROM core.subject_records s
LEFT JOIN core.record_links l USING (record_id)
GROUP BY s.record_id HAVING count(l.record_id) <> 1
UNION ALL
SELECT l.record_id FROM core.record_links l
LEFT JOIN core.licensed_operators o USING (operator_id)
WHERE l.status = 'linked' AND o.operator_id IS NULL
