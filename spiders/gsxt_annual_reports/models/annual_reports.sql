-- gsxt_annual_reports in the core annual-report shape (core.annual_reports): one row per 公示系统 entity, report
-- kind `company` (its deadline in seeds.annual_report_deadlines).
SELECT
    record_id, 'company' AS report_kind, subject_name, last_filed_year, first_seen_at, last_seen_at, removed_at,
    subject_uscc, last_filed_on, url
FROM staging.stg_gsxt__annual_reports
