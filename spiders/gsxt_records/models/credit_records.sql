-- gsxt_records in the core record shape (core.credit_records): 行政处罚 (`penalty`), 经营异常名录
-- (`abnormal_operation`, its 移出日期 as the correction date) and 严重违法失信名单 (`serious_illegal_list`).
-- gsxt publishes no penalty domain: it is read as general (the 6-month SAMR path), which understates food,
-- drug and special-equipment penalties (1 year); `domain_assumed` says so.
SELECT
    record_id, 'penalty' AS record_type, decision_no AS reference, subject_name, subject_uscc,
    decided_on AS event_on, published_on, authority, content AS summary, penalty_kinds_text, fine_yuan,
    'general' AS domain, TRUE AS domain_assumed, url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_gsxt__penalties
UNION ALL BY NAME
SELECT
    record_id, 'abnormal_operation' AS record_type, listing_key AS reference, subject_name, subject_uscc,
    listed_on AS event_on, listed_on AS published_on, authority, reason AS summary,
    CASE WHEN reason LIKE '%年度报告%' THEN ['annual_report_missing'] ELSE []::VARCHAR[] END AS penalty_kinds,
    removed_on AS corrected_on, url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_gsxt__abnormal_operations
UNION ALL BY NAME
SELECT
    record_id, 'serious_illegal_list' AS record_type, listing_key AS reference, subject_name, subject_uscc,
    listed_on AS event_on, listed_on AS published_on, authority, reason AS summary, []::VARCHAR[] AS penalty_kinds,
    removed_on AS corrected_on, url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_gsxt__serious_illegal
