-- Every current record has exactly one removal status row; a row without an error has a known status,
-- and an `unknown` one says which field it needs.
SELECT c.record_id FROM core.removal_cases c LEFT JOIN core.removal_status s USING (record_id)
GROUP BY c.record_id HAVING count(s.record_id) <> 1
UNION ALL
SELECT record_id FROM core.removal_status
WHERE error IS NULL AND status NOT IN ('not_published', 'expired', 'eligible', 'waiting', 'conditions_unmet',
                                       'barred', 'unknown')
UNION ALL
SELECT record_id FROM core.removal_status WHERE status = 'unknown' AND reason NOT LIKE '%unknown: needs %'
