-- stg_miit__licence_business_types -- 业务种类: one row per business type on a licence, with its
-- coverage (覆盖范围) and validity (发证日期 / 截止日期).
WITH types AS (
    SELECT
        record_id,
        unnest(from_json(fields_json -> 'business_types',
            '[{"business_type": "VARCHAR", "coverage": "VARCHAR", "issued_on": "VARCHAR", "expires_on": "VARCHAR"}]'))
            AS t
    FROM raw.records
    WHERE source = 'miit_licences' AND record_type = 'licence' AND removed_at IS NULL
)
SELECT
    record_id,
    t.business_type                      AS business_type,
    CASE
        WHEN t.business_type LIKE '互联网数据中心业务%仅限互联网资源协作服务%' THEN 'B11-cloud'
        WHEN t.business_type LIKE '互联网数据中心业务%' THEN 'B11'
        WHEN t.business_type LIKE '内容分发网络业务%' THEN 'B12'
        WHEN t.business_type LIKE '互联网接入服务业务%' THEN 'B14'
        WHEN t.business_type LIKE '在线数据处理与交易处理业务%' THEN 'B21'
        WHEN t.business_type LIKE '信息服务业务%' THEN 'B25'
        ELSE 'other'
    END                                  AS business_code,   -- 2015 catalogue code (registries.md §3.1)
    t.coverage                           AS coverage,
    t.issued_on::DATE                    AS issued_on,
    t.expires_on::DATE                   AS expires_on
FROM types
