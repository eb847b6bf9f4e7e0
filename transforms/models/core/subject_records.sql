-- subject_records -- every current non-licence record (penalty 行政处罚, abnormal_operation
-- 经营异常名录, list entries 不良/失信名单 …) with the subject it names, ready for linking.
-- Each record type's schema carries subject_name / subject_uscc (pipelines/schemas.py).
SELECT
    record_id,
    source,
    record_type,
    fields_json ->> 'subject_name' AS subject_name,
    fields_json ->> 'subject_uscc' AS subject_uscc,
    first_seen_at,
    last_seen_at
FROM raw.records
WHERE record_type <> 'licence' AND removed_at IS NULL
