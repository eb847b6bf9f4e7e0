-- stg_gsxt__abnormal_operations -- abnormal operation list entries (经营异常名录, gsxt entBusExcep): one row
-- per listing the 公示系统 shows (source gsxt_records), with its removal (移出) once published. Rename and cast only.
SELECT
    record_id,
    natural_key                                AS listing_key,        -- pripid | 列入日期 (raw) | reason hash
    fields_json ->> 'subject_name'             AS subject_name,       -- 企业名称 (cleaned)
    fields_json ->> 'subject_uscc'             AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    fields_json ->> 'subject_uscc_raw'         AS subject_uscc_raw,   -- as published
    fields_json ->> 'reason'                   AS reason,             -- speCause_CN 列入经营异常名录原因
    (fields_json ->> 'listed_on')::DATE        AS listed_on,          -- abntime 列入日期
    fields_json ->> 'authority'                AS authority,          -- decOrg_CN 作出决定机关(列入)
    fields_json ->> 'removal_reason'           AS removal_reason,     -- remExcpRes_CN 移出经营异常名录原因
    (fields_json ->> 'removed_on')::DATE       AS removed_on,         -- remDate 移出日期
    fields_json ->> 'removal_authority'        AS removal_authority,  -- reDecOrg_CN 作出决定机关(移出)
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM raw.records
WHERE source = 'gsxt_records' AND record_type = 'abnormal_operation'
