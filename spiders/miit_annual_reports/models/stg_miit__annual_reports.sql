-- stg_miit__annual_reports -- 电信业务经营许可年报: per licence, the latest year it has filed an annual report for
-- (source miit_annual_reports; getreporty's FILL_YEAR, NULL when it answered ssss). Rename and cast only;
-- earlier years the crawls saw are in raw.record_versions.
SELECT
    record_id,
    natural_key                                     AS lic_id,             -- MIIT's licence uuid
    field.licence_no                                AS licence_no,         -- 许可证编号
    field.company_name                              AS company_name,       -- 公司名称 (cleaned)
    TRY_CAST(field.last_filed_year AS INTEGER)
                                                    AS last_filed_year,    -- 填报年度 of the latest report; NULL: none
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM (
    -- the JSON parsed once per record (`->>` would parse it again for every field)
    SELECT *, json_transform(fields_json, '{
        "licence_no": "VARCHAR",
        "company_name": "VARCHAR",
        "last_filed_year": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'miit_annual_reports' AND record_type = 'telecom_annual_report'
