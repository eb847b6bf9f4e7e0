-- licences -- 电信业务经营许可证 currently shown, with the operator that holds each.
-- operator_id is the holder's USCC where it has a valid one, else a hash of its published name.
SELECT
    l.record_id,
    l.lic_id,
    l.licence_no,
    coalesce(l.uscc, 'N:' || substr(md5(l.company_name), 1, 16)) AS operator_id,
    l.company_name,
    l.uscc,
    l.issuer,
    min(b.issued_on)                                        AS issued_on,
    min(b.expires_on)                                       AS expires_on,     -- earliest business-type expiry
    list(DISTINCT b.business_code ORDER BY b.business_code) AS business_codes,
    l.first_seen_at,
    l.last_seen_at
FROM staging.licences_unioned l
LEFT JOIN staging.licence_business_types_unioned b USING (record_id)
WHERE l.removed_at IS NULL
GROUP BY ALL
