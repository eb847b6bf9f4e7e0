-- stg_gsxt__annual_reports -- 企业年度报告: per 公示系统 entity, the years it has filed (source gsxt_annual_reports,
-- anCheYearInfo). Rename and cast only; what earlier crawls saw is in raw.record_versions.
SELECT
    record_id,
    natural_key                                     AS entity_key,         -- uniscId | entName as published
    field.subject_name                              AS subject_name,       -- 企业名称 (cleaned)
    field.subject_uscc                              AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    TRY_CAST(field.last_filed_year AS INTEGER)
                                                    AS last_filed_year,    -- latest 年报年度; NULL: none filed
    (field.last_filed_on)::DATE                     AS last_filed_on,      -- its 报送日期
    field.years_filed                               AS years_filed,        -- every 年报年度, ascending
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM (
    -- the JSON parsed once per record (`->>` would parse it again for every field)
    SELECT *, json_transform(fields_json, '{
        "subject_name": "VARCHAR",
        "subject_uscc": "VARCHAR",
        "last_filed_year": "VARCHAR",
        "last_filed_on": "VARCHAR",
        "years_filed": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'gsxt_annual_reports' AND record_type = 'company_annual_report'
