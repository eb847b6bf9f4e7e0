-- creditchina_tax_violations in the core record shape (core.credit_records): each 重大税收违法失信主体 case as a
-- `tax_major_violation`, referenced by 纳税人名称 and 案件上报期 (the case has no number); the 案件上报期's month
-- stands for its publication date (the removal rules count from publication, 国家税务总局令第54号).
SELECT
    record_id, 'tax_major_violation' AS record_type, reporting_period || ' ' || case_nature AS reference,
    subject_name, reported_on AS event_on, url, first_seen_at, last_seen_at, removed_at,
    subject_uscc, reported_on AS published_on, data_source AS authority,
    case_nature || '：' || coalesce(facts, '') AS summary
FROM staging.stg_tax__major_violations
