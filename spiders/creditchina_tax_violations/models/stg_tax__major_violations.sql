-- stg_tax__major_violations -- 重大税收违法失信主体 cases (source creditchina_tax_violations, 信用中国 catalogue
-- table credit_swzj_fr_zdsswfajdsr), one row per case. Rename and cast only. People's names arrive masked.
SELECT
    record_id,
    natural_key                                     AS case_key,           -- code | 案件上报期 | hash of 案件性质
    field.subject_name                              AS subject_name,       -- 纳税人名称 (cleaned)
    field.subject_uscc                              AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                          AS subject_uscc_raw,   -- as published
    field.taxpayer_id                               AS taxpayer_id,        -- 纳税人识别号
    field.org_code                                  AS org_code,           -- 组织机构代码
    field.reporting_period                          AS reporting_period,   -- 案件上报期, as published
    (field.reported_on)::DATE                       AS reported_on,        -- its month's first day (our reading)
    field.address                                   AS address,            -- 注册地址
    field.legal_rep                                 AS legal_rep_masked,   -- 法定代表人或负责人姓名, masked (王*)
    field.finance_head                              AS finance_head_masked, -- 财务负责人姓名, masked
    field.case_nature                               AS case_nature,        -- 案件性质
    field.facts                                     AS facts,              -- 主要违法事实 (ID numbers masked)
    field.basis_and_penalty                         AS basis_and_penalty,  -- 相关法律依据及税务处理处罚情况
    field.data_source                               AS data_source,        -- 数据来源 (the 稽查局)
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM (
    -- the JSON parsed once per record (`->>` would parse it again for every field)
    SELECT *, json_transform(fields_json, '{
        "subject_name": "VARCHAR",
        "subject_uscc": "VARCHAR",
        "subject_uscc_raw": "VARCHAR",
        "taxpayer_id": "VARCHAR",
        "org_code": "VARCHAR",
        "reporting_period": "VARCHAR",
        "reported_on": "VARCHAR",
        "address": "VARCHAR",
        "legal_rep": "VARCHAR",
        "finance_head": "VARCHAR",
        "case_nature": "VARCHAR",
        "facts": "VARCHAR",
        "basis_and_penalty": "VARCHAR",
        "data_source": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'creditchina_tax_violations' AND record_type = 'tax_major_violation'
