-- stg_miit__licences -- 电信业务经营许可证: one row per licence the MIIT licence system shows
-- (source miit_licences). Rename and cast only.
SELECT
    record_id,
    natural_key                          AS lic_id,          -- MIIT's licence uuid
    field.licence_no                     AS licence_no,      -- 许可证编号
    field.company_name                   AS company_name,    -- 公司名称 (cleaned)
    field.uscc                           AS uscc,            -- 统一社会信用代码 from the annual report, NULL
                                                             -- unless valid; NULL when no report was filed
    field.uscc_raw                       AS uscc_raw,        -- as published
    field.issuer                         AS issuer,          -- 发证机关
    coalesce(json_type(raw_json, '$.annual_report') = 'OBJECT', false)
                                         AS has_annual_report, -- false: getreporty said ssss (no 年报), USCC unknown
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM (
    -- the JSON parsed once per record (`->>` would parse it again for every field)
    SELECT *, json_transform(fields_json, '{
        "licence_no": "VARCHAR",
        "company_name": "VARCHAR",
        "uscc": "VARCHAR",
        "uscc_raw": "VARCHAR",
        "issuer": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'miit_licences' AND record_type = 'licence'
