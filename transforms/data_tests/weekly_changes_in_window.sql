-- Changes are of a known kind, happened by the as-of date, and sit in the reporting week of their time.
SELECT record_id FROM marts.weekly_changes
WHERE change NOT IN ('new', 'changed', 'removed')
   OR reporting_day(changed_at) > getvariable('as_of')
   OR reporting_week <> reporting_week(reporting_day(changed_at))
