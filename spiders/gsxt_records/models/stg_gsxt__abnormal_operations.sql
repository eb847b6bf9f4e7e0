-- stg_gsxt__abnormal_operations -- abnormal operation list entries (经营异常名录, gsxt entBusExcep): one row
-- per listing the 公示系统 shows (source gsxt_records), with its removal (移出) once published. Rename and cast only.
SELECT
    record_id,
    natural_key                                AS listing_key,        -- pripid | 列入日期 (raw) | reason hash
    field.subject_name                         AS subject_name,       -- 企业名称 (cleaned)
    field.subject_uscc                         AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                     AS subject_uscc_raw,   -- as published
    field.reason                               AS reason,             -- speCause_CN 列入经营异常名录原因
    (field.listed_on)::DATE                    AS listed_on,          -- abntime 列入日期
    field.authority                            AS authority,          -- decOrg_CN 作出决定机关(列入)
    field.removal_reason                       AS removal_reason,     -- remExcpRes_CN 移出经营异常名录原因
    (field.removed_on)::DATE                   AS removed_on,         -- remDate 移出日期
    field.removal_authority                    AS removal_authority,  -- reDecOrg_CN 作出决定机关(移出)
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
WHERE source = 'gsxt_records' AND record_type = 'abnormal_operation'
