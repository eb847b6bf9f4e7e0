-- stg_creditchina__serious_dishonest -- 严重失信主体名单 entries on 信用中国 (source
-- creditchina_serious_dishonest), one row per entry (认定文书号). Rename and cast only.
SELECT
    record_id,
    natural_key                                     AS entry_key,          -- 认定文书号 (or code|date|reason hash)
    field.subject_name                              AS subject_name,       -- 失信主体名称 (cleaned)
    field.subject_uscc                              AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                          AS subject_uscc_raw,   -- as published
    field.list_name                                 AS list_name,          -- 名单类别
    field.reason                                    AS reason,             -- 列入原因
    (field.listed_on)::DATE                         AS listed_on,          -- 列入日期
    field.document_no                               AS document_no,        -- 认定文书号
    field.authority                                 AS authority,          -- 认定部门
    field.data_source                               AS data_source,        -- 数据来源
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
        "list_name": "VARCHAR",
        "reason": "VARCHAR",
        "listed_on": "VARCHAR",
        "document_no": "VARCHAR",
        "authority": "VARCHAR",
        "data_source": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'creditchina_serious_dishonest' AND record_type = 'serious_dishonest_list'
