-- Removal candidates are eligible now or within the removal window, and each says what to prepare and
-- where to apply.
SELECT record_id FROM marts.removal_candidates
WHERE removal_status NOT IN ('eligible', 'waiting')
   OR early_removal_from > getvariable('as_of') + getvariable('removal_window_days')
   OR materials IS NULL OR where_to_apply IS NULL
