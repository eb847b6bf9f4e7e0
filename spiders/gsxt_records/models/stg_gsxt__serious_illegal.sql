-- stg_gsxt__serious_illegal -- serious illegal and dishonest list entries (严重违法失信名单, gsxt illInfo):
-- one row per listing the 公示系统 shows (source gsxt_records). Rename and cast only.
SELECT
    record_id,
    natural_key                                AS listing_key,        -- pripid | 列入日期 (raw) | reason hash
    fields_json ->> 'subject_name'             AS subject_name,       -- 企业名称 (cleaned)
    fields_json ->> 'subject_uscc'             AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    fields_json ->> 'subject_uscc_raw'         AS subject_uscc_raw,   -- as published
    fields_json ->> 'reason'                   AS reason,             -- serILLRea_CN 列入原因
    (fields_json ->> 'listed_on')::DATE        AS listed_on,          -- abntime 列入日期
    fields_json ->> 'authority'                AS authority,          -- decOrg_CN 作出决定机关
    fields_json ->> 'removal_reason'           AS removal_reason,     -- 移出原因 (not seen on the site yet)
    (fields_json ->> 'removed_on')::DATE       AS removed_on,         -- 移出日期 (not seen on the site yet)
    fields_json ->> 'removal_authority'        AS removal_authority,
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM raw.records
WHERE source = 'gsxt_records' AND record_type = 'serious_illegal_list'
