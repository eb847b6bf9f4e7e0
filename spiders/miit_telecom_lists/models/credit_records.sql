-- miit_telecom_lists in the core record shape (core.credit_records): each entry of an MIIT notice as a
-- `telecom_bad_list` (不良名单) or `telecom_dishonest_list` (失信名单) record, referenced by its notice.
SELECT
    record_id,
    CASE list_kind WHEN 'dishonest' THEN 'telecom_dishonest_list' ELSE 'telecom_bad_list' END AS record_type,
    notice_title AS reference, subject_name, subject_uscc,
    coalesce(decided_on, notice_published_on) AS event_on, notice_published_on AS published_on,
    unit AS authority, reason AS summary,
    CASE WHEN reason LIKE '%年报%' THEN ['annual_report_missing'] ELSE []::VARCHAR[] END AS penalty_kinds,
    notice_url AS url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_miit__telecom_list_entries
