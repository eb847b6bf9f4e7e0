-- licence_risk -- 许可证风险: licences at risk, for two reasons (a row has either or both):
--  1. expiring within the licence window (licence_window_days, transforms/reporting.py) while the operator has an open record of a type that stands in the way of
--     renewal (seeds.record_types.blocks_licence_renewal, declared in each source.yml: 电信业务经营失信名单 /
--     不良名单, 严重违法失信名单, 失信被执行人, 严重失信主体名单, 重大税收违法失信主体, …). Which list blocks which
--     renewal is our reading of 《电信业务经营许可管理办法》(42号令) and the 2018 MIIT notice, not a confirmed rule:
--     `basis` says so;
--  2. its telecom annual report for last year not filed (marts.annual_report_warnings: "telecom annual report
--     for YEAR not filed (due DATE)", with the days left; negative once past 31 March), a listing ground for
--     the 电信业务经营不良名单.
WITH blocking AS (
    SELECT r.operator_id, string_agg(DISTINCT t.label_zh, '; ' ORDER BY t.label_zh) AS blocking_lists
    FROM core.operator_records r
    JOIN seeds.record_types t USING (record_type)
    WHERE r.removed_at IS NULL AND t.blocks_licence_renewal
    GROUP BY r.operator_id
),
reports AS (
    SELECT lic_id, warning AS annual_report_warning, due_on AS annual_report_due_on,
           days_left AS annual_report_days_left, basis AS annual_report_basis
    FROM marts.annual_report_warnings
    WHERE lic_id IS NOT NULL
),
licences AS (
    SELECT l.*, b.blocking_lists, r.* EXCLUDE (lic_id),
           b.blocking_lists IS NOT NULL
               AND l.expires_on BETWEEN getvariable('as_of') AND getvariable('as_of') + getvariable('licence_window_days')
                                                           AS renewal_blocked
    FROM core.licences l
    LEFT JOIN blocking b USING (operator_id)
    LEFT JOIN reports r USING (lic_id)
)
SELECT
    l.licence_no,
    l.operator_id,
    o.name                                                 AS operator_name,
    l.issuer,
    array_to_string(l.business_codes, '; ')                AS business_codes,
    l.expires_on,
    l.expires_on - getvariable('as_of')                    AS days_to_expiry,
    CASE WHEN l.renewal_blocked THEN l.blocking_lists END  AS blocking_lists,
    l.annual_report_warning,
    l.annual_report_due_on,
    l.annual_report_days_left,
    concat_ws('; ',
        CASE WHEN l.renewal_blocked THEN '《电信业务经营许可管理办法》（工业和信息化部令第42号）; 工信部信管〔2018〕54号 (unconfirmed reading)' END,
        l.annual_report_basis)                             AS basis
FROM licences l
JOIN marts.operator_risk o USING (operator_id)
WHERE l.renewal_blocked OR l.annual_report_warning IS NOT NULL
ORDER BY coalesce(l.annual_report_days_left, l.expires_on - getvariable('as_of')), l.expires_on, l.licence_no
