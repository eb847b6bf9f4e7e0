-- annual_reports -- 年度报告: every annual-report fact currently shown (each source's models/annual_reports.sql,
-- unioned): per licence (电信业务经营许可年报) or per registered entity (企业年度报告), the latest year filed, with
-- the licensed operator it concerns (a licence's holder; an entity whose USCC is an operator's). Earlier years
-- the crawls saw are in raw.record_versions.
SELECT
    a.record_id,
    a.source,
    a.report_kind,
    coalesce(l.operator_id, o.operator_id)                  AS operator_id,
    a.subject_name,
    a.subject_uscc,
    a.lic_id,
    coalesce(a.licence_no, l.licence_no)                    AS licence_no,
    l.issued_on                                             AS licence_issued_on, -- a licence reports from its first year
    a.last_filed_year,
    a.last_filed_on,
    a.url,
    a.first_seen_at,
    a.last_seen_at
FROM staging.annual_reports_unioned a
LEFT JOIN core.licences l ON a.lic_id IS NOT NULL AND l.lic_id = a.lic_id
LEFT JOIN core.licensed_operators o ON a.lic_id IS NULL AND o.uscc = a.subject_uscc
WHERE a.removed_at IS NULL
