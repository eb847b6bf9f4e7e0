-- stg_gsxt__serious_illegal -- serious illegal and dishonest list entries (严重违法失信名单, gsxt illInfo):
-- one row per listing the 公示系统 shows (source gsxt_records). Rename and cast only.
SELECT
    record_id,
    natural_key                                AS listing_key,        -- pripid | 列入日期 (raw) | reason hash
    field.subject_name                         AS subject_name,       -- 企业名称 (cleaned)
    field.subject_uscc                         AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                     AS subject_uscc_raw,   -- as published
    field.reason                               AS reason,             -- serILLRea_CN 列入原因
    (field.listed_on)::DATE                    AS listed_on,          -- abntime 列入日期
    field.authority                            AS authority,          -- decOrg_CN 作出决定机关
    field.removal_reason                       AS removal_reason,     -- 移出原因 (not seen on the site yet)
    (field.removed_on)::DATE                   AS removed_on,         -- 移出日期 (not seen on the site yet)
    field.removal_authority                    AS removal_authority,
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
        "reason": "VARCHAR",
        "listed_on": "VARCHAR",
        "authority": "VARCHAR",
        "removal_reason": "VARCHAR",
        "removed_on": "VARCHAR",
        "removal_authority": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'gsxt_records' AND record_type = 'serious_illegal_list'
