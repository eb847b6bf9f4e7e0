-- operator_licences -- what a compliance reader sees per licensed operator: licences, business
-- types, cloud/IDC flags, the next licence expiry and the records linked to the operator.
SELECT
    o.operator_id,
    o.name,
    o.uscc,
    o.licence_count,
    array_to_string(o.licence_numbers, '; ')                 AS licence_numbers,
    array_to_string(o.business_codes, '; ')                  AS business_codes,
    o.is_cloud,
    o.is_idc,
    o.is_cdn,
    o.is_isp,
    o.next_licence_expiry,
    o.next_licence_expiry - getvariable('as_of')             AS days_to_expiry,
    coalesce(l.linked_records, 0)                            AS linked_records,
    getvariable('as_of')                                     AS as_of
FROM core.licensed_operators o
LEFT JOIN (
    SELECT operator_id, count(*) AS linked_records
    FROM core.record_links WHERE status = 'linked'
    GROUP BY operator_id
) l USING (operator_id)
ORDER BY o.next_licence_expiry, o.name
