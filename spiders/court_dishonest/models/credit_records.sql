-- court_dishonest in the core record shape (core.credit_records): each 失信被执行人 case, referenced by its
-- 案号; a case that lists a person (an ID number, not an organisation code) is personal data.
SELECT
    record_id, 'court_dishonest' AS record_type, case_code AS reference, subject_name, subject_uscc,
    published_on AS event_on, published_on, court AS authority, disrupt_type AS summary,
    []::VARCHAR[] AS penalty_kinds, subject_id_number IS NOT NULL AS is_personal,
    url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_court__dishonest
