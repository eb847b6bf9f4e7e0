-- licence_risk -- 许可证风险: licences expiring within the licence window (licence_window_days,
-- transforms/reporting.py) held by an operator with an open record of a
-- type that stands in the way of renewal (seeds.record_types.blocks_licence_renewal, declared in each
-- source.yml: 电信业务经营失信名单 / 不良名单, 严重违法失信名单, 失信被执行人, …). Which list blocks which renewal
-- is our reading of 《电信业务经营许可管理办法》(42号令) and the 2018 MIIT notice, not a confirmed rule:
-- `basis` says so.
WITH blocking AS (
    SELECT r.operator_id, string_agg(DISTINCT t.label_zh, '; ' ORDER BY t.label_zh) AS blocking_lists
    FROM core.operator_records r
    JOIN seeds.record_types t USING (record_type)
    WHERE r.removed_at IS NULL AND t.blocks_licence_renewal
    GROUP BY r.operator_id
)
SELECT
    l.licence_no,
    l.operator_id,
    o.name                                                 AS operator_name,
    l.issuer,
    array_to_string(l.business_codes, '; ')                AS business_codes,
    l.expires_on,
    l.expires_on - getvariable('as_of')                    AS days_to_expiry,
    b.blocking_lists,
    '《电信业务经营许可管理办法》（工业和信息化部令第42号）; 工信部信管〔2018〕54号 (unconfirmed reading)' AS basis
FROM core.licences l
JOIN marts.operator_risk o USING (operator_id)
JOIN blocking b USING (operator_id)
WHERE l.expires_on BETWEEN getvariable('as_of') AND getvariable('as_of') + getvariable('licence_window_days')
ORDER BY l.expires_on
