-- stg_court__dishonest -- 失信被执行人 (dishonest judgment debtors, 中国执行信息公开网): one row per case
-- (source court_dishonest). Rename and cast only. A person's ID number arrives masked (372*************34).
SELECT
    record_id,
    natural_key                                    AS case_code_raw,       -- 案号 as published
    fields_json ->> 'case_code'                    AS case_code,           -- 案号 (cleaned)
    fields_json ->> 'subject_name'                 AS subject_name,        -- 被执行人姓名/名称
    fields_json ->> 'subject_uscc'                 AS subject_uscc,        -- 统一社会信用代码, NULL unless valid
    fields_json ->> 'subject_uscc_raw'             AS subject_uscc_raw,    -- cardNum of an organisation
    fields_json ->> 'subject_id_number'            AS subject_id_number,   -- 身份证号码, masked
    fields_json ->> 'legal_rep'                    AS legal_rep,           -- 法定代表人 (personal data)
    fields_json ->> 'court'                        AS court,               -- 执行法院
    fields_json ->> 'area'                         AS area,                -- 省份
    fields_json ->> 'gist_id'                      AS gist_id,             -- 执行依据文号
    fields_json ->> 'gist_unit'                    AS gist_unit,           -- 做出执行依据单位
    fields_json ->> 'duty'                         AS duty,                -- 生效法律文书确定的义务
    fields_json ->> 'performance'                  AS performance,         -- 履行情况
    fields_json ->> 'disrupt_type'                 AS disrupt_type,        -- 失信行为具体情形
    (fields_json ->> 'registered_on')::DATE        AS registered_on,       -- 立案时间
    (fields_json ->> 'published_on')::DATE         AS published_on,        -- 发布时间
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM raw.records
WHERE source = 'court_dishonest' AND record_type = 'court_dishonest'
