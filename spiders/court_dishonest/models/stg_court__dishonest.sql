-- stg_court__dishonest -- 失信被执行人 (dishonest judgment debtors, 中国执行信息公开网): one row per case
-- (source court_dishonest). Rename and cast only. A person's ID number arrives masked (372*************34).
SELECT
    record_id,
    natural_key                                    AS case_code_raw,       -- 案号 as published
    field.case_code                                AS case_code,           -- 案号 (cleaned)
    field.subject_name                             AS subject_name,        -- 被执行人姓名/名称
    field.subject_uscc                             AS subject_uscc,        -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                         AS subject_uscc_raw,    -- cardNum of an organisation
    field.subject_id_number                        AS subject_id_number,   -- 身份证号码, masked
    field.legal_rep                                AS legal_rep,           -- 法定代表人 (personal data)
    field.court                                    AS court,               -- 执行法院
    field.area                                     AS area,                -- 省份
    field.gist_id                                  AS gist_id,             -- 执行依据文号
    field.gist_unit                                AS gist_unit,           -- 做出执行依据单位
    field.duty                                     AS duty,                -- 生效法律文书确定的义务
    field.performance                              AS performance,         -- 履行情况
    field.disrupt_type                             AS disrupt_type,        -- 失信行为具体情形
    (field.registered_on)::DATE                    AS registered_on,       -- 立案时间
    (field.published_on)::DATE                     AS published_on,        -- 发布时间
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM (
    -- the JSON parsed once per record (`->>` would parse it again for every field)
    SELECT *, json_transform(fields_json, '{
        "case_code": "VARCHAR",
        "subject_name": "VARCHAR",
        "subject_uscc": "VARCHAR",
        "subject_uscc_raw": "VARCHAR",
        "subject_id_number": "VARCHAR",
        "legal_rep": "VARCHAR",
        "court": "VARCHAR",
        "area": "VARCHAR",
        "gist_id": "VARCHAR",
        "gist_unit": "VARCHAR",
        "duty": "VARCHAR",
        "performance": "VARCHAR",
        "disrupt_type": "VARCHAR",
        "registered_on": "VARCHAR",
        "published_on": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'court_dishonest' AND record_type = 'court_dishonest'
