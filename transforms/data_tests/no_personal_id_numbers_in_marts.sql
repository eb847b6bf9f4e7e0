-- No unmasked personal ID number appears in what people read: 18 characters (17 digits and a digit or X),
-- also written in groups as on the card (110101 19800101 0010, 110101-19800101-0010). The pipeline masks
-- every field before anything is stored (pipelines/run_folder.py); this is the last guard.
SELECT record_id FROM marts.open_records
WHERE regexp_matches(coalesce(summary, '') || ' ' || coalesce(subject_name, ''),
                     '[0-9]{17}[0-9Xx]|[0-9]{6}[ -]+[0-9]{8}[ -]+[0-9]{3}[0-9Xx]')
UNION ALL
SELECT record_id FROM marts.weekly_changes
WHERE regexp_matches(coalesce(summary, '') || ' ' || coalesce(subject_name, ''),
                     '[0-9]{17}[0-9Xx]|[0-9]{6}[ -]+[0-9]{8}[ -]+[0-9]{3}[0-9Xx]')
