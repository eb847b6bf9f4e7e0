-- stg_miit__telecom_list_entries -- 电信业务经营不良名单 / 失信名单 (telecom operators' bad-conduct and
-- dishonesty lists): one row per entry of an MIIT notice (source miit_telecom_lists). Rename and cast only.
SELECT
    record_id,
    natural_key                                    AS entry_key,           -- notice id + 许可证编号 (or name)
    fields_json ->> 'list_kind'                    AS list_kind,           -- bad (不良名单) | dishonest (失信名单)
    fields_json ->> 'subject_name'                 AS subject_name,        -- 经营者名称 (cleaned)
    fields_json ->> 'subject_uscc'                 AS subject_uscc,        -- 统一社会信用代码, NULL unless valid
    fields_json ->> 'subject_uscc_raw'             AS subject_uscc_raw,    -- as published
    fields_json ->> 'licence_no'                   AS licence_no,          -- 许可证编号
    (fields_json ->> 'decided_on')::DATE           AS decided_on,          -- 处理日期
    fields_json ->> 'reason'                       AS reason,              -- 列入事由
    fields_json ->> 'unit'                         AS unit,                -- 列入单位
    fields_json ->> 'notice_title'                 AS notice_title,
    fields_json ->> 'notice_url'                   AS notice_url,
    (fields_json ->> 'notice_published_on')::DATE  AS notice_published_on,
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM raw.records
WHERE source = 'miit_telecom_lists' AND record_type = 'telecom_list_entry'
