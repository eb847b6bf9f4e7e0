-- stg_miit__telecom_list_entries -- 电信业务经营不良名单 / 失信名单 (telecom operators' bad-conduct and
-- dishonesty lists): one row per entry of an MIIT notice (source miit_telecom_lists). Rename and cast only.
SELECT
    record_id,
    natural_key                                    AS entry_key,           -- notice id + 许可证编号 (or name)
    field.list_kind                                AS list_kind,           -- bad (不良名单) | dishonest (失信名单)
    field.subject_name                             AS subject_name,        -- 经营者名称 (cleaned)
    field.subject_uscc                             AS subject_uscc,        -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                         AS subject_uscc_raw,    -- as published
    field.licence_no                               AS licence_no,          -- 许可证编号
    (field.decided_on)::DATE                       AS decided_on,          -- 处理日期
    field.reason                                   AS reason,              -- 列入事由
    field.unit                                     AS unit,                -- 列入单位
    field.notice_title                             AS notice_title,
    field.notice_url                               AS notice_url,
    (field.notice_published_on)::DATE              AS notice_published_on,
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM (
    -- the JSON parsed once per record (`->>` would parse it again for every field)
    SELECT *, json_transform(fields_json, '{
        "list_kind": "VARCHAR",
        "subject_name": "VARCHAR",
        "subject_uscc": "VARCHAR",
        "subject_uscc_raw": "VARCHAR",
        "licence_no": "VARCHAR",
        "decided_on": "VARCHAR",
        "reason": "VARCHAR",
        "unit": "VARCHAR",
        "notice_title": "VARCHAR",
        "notice_url": "VARCHAR",
        "notice_published_on": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'miit_telecom_lists' AND record_type = 'telecom_list_entry'
