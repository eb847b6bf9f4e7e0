-- telecom_list_licences -- the licence (许可证编号) each 电信业务经营不良名单 / 失信名单 entry names, with the
-- business types that licence carries (B11-cloud = 互联网资源协作服务, i.e. cloud), so the cloud credit
-- evaluation can tell entries for cloud business from entries for other licensed business. A licence no
-- longer shown (e.g. revoked) has no business types on record: licence_codes is NULL then.
WITH licence_codes AS (
    SELECT
        s.licence_no,
        list(DISTINCT b.business_code ORDER BY b.business_code) FILTER (WHERE b.business_code IS NOT NULL)
            AS licence_codes
    FROM staging.stg_miit__licences s
    LEFT JOIN staging.stg_miit__licence_business_types b USING (record_id)
    GROUP BY s.licence_no
)
SELECT
    e.record_id,
    e.licence_no,
    c.licence_codes
FROM staging.stg_miit__telecom_list_entries e
LEFT JOIN licence_codes c ON c.licence_no = e.licence_no
