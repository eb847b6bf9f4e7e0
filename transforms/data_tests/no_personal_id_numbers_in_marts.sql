-- No unmasked personal ID number (18 characters: 17 digits and a digit or X) appears in what people read.
SELECT record_id FROM marts.open_records
WHERE regexp_matches(coalesce(summary, '') || coalesce(subject_name, ''), '[0-9]{17}[0-9Xx]')
UNION ALL
SELECT record_id FROM marts.weekly_changes
WHERE regexp_matches(coalesce(summary, '') || coalesce(subject_name, ''), '[0-9]{17}[0-9Xx]')
