-- Removal candidates are eligible now or within 30 days, and each says what to prepare and where to apply.
SELECT record_id FROM marts.removal_candidates
WHERE removal_status NOT IN ('eligible', 'waiting')
   OR early_removal_from > getvariable('as_of') + INTERVAL 30 DAY
   OR materials IS NULL OR where_to_apply IS NULL
