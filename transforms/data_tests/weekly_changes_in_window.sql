-- Weekly changes are of a known kind and fall within the seven days up to the as-of date.
SELECT record_id FROM marts.weekly_changes
WHERE change NOT IN ('new', 'changed', 'removed')
   OR changed_at < getvariable('as_of') - INTERVAL 6 DAY
   OR changed_at >= getvariable('as_of') + INTERVAL 1 DAY
