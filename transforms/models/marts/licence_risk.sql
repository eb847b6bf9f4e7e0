-- licence_risk -- 许可证风险: licences expiring within 180 days held by an operator on a list that stands
-- in the way of renewal (电信业务经营失信名单 / 不良名单, 严重违法失信名单, 失信被执行人). Which list
-- blocks which renewal is our reading of 《电信业务经营许可管理办法》(42号令) and the 2018 MIIT notice,
-- not a confirmed rule: `basis` says so.
SELECT
    l.licence_no,
    l.operator_id,
    o.name                                                 AS operator_name,
    l.issuer,
    array_to_string(l.business_codes, '; ')                AS business_codes,
    l.expires_on,
    l.expires_on - getvariable('as_of')                    AS days_to_expiry,
    concat_ws('; ',
        CASE WHEN o.on_telecom_dishonest_list THEN '电信业务经营失信名单' END,
        CASE WHEN o.on_telecom_bad_list THEN '电信业务经营不良名单' END,
        CASE WHEN o.open_serious_illegal > 0 THEN '严重违法失信名单' END,
        CASE WHEN o.open_court_dishonest > 0 THEN '失信被执行人' END)  AS blocking_lists,
    '《电信业务经营许可管理办法》（工业和信息化部令第42号）; 工信部信管〔2018〕54号 (unconfirmed reading)' AS basis
FROM core.licences l
JOIN marts.operator_risk o USING (operator_id)
WHERE l.expires_on BETWEEN getvariable('as_of') AND getvariable('as_of') + INTERVAL 180 DAY
  AND (o.on_telecom_dishonest_list OR o.on_telecom_bad_list OR o.open_serious_illegal > 0
       OR o.open_court_dishonest > 0)
ORDER BY l.expires_on
