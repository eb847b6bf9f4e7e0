-- miit_annual_reports in the core annual-report shape (core.annual_reports): one row per licence, report kind
-- `telecom_licence` (its deadline in seeds.annual_report_deadlines).
SELECT
    record_id, 'telecom_licence' AS report_kind, company_name AS subject_name, last_filed_year,
    first_seen_at, last_seen_at, removed_at, lic_id, licence_no, url
FROM staging.stg_miit__annual_reports
