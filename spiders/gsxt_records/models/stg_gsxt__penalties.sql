-- stg_gsxt__penalties -- administrative penalties (行政处罚) published on the 公示系统 (gsxt punishmentdetail):
-- one row per decision (source gsxt_records). Rename and cast only.
SELECT
    record_id,
    natural_key                                AS decision_no_raw,    -- penDecNo as published
    fields_json ->> 'decision_no'              AS decision_no,        -- 行政处罚决定书文号 (cleaned)
    fields_json ->> 'subject_name'             AS subject_name,       -- 企业名称 (cleaned)
    fields_json ->> 'subject_uscc'             AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    fields_json ->> 'subject_uscc_raw'         AS subject_uscc_raw,   -- as published
    fields_json ->> 'violation_type'           AS violation_type,     -- illegActType 违法行为类型
    fields_json ->> 'penalty_kinds_text'       AS penalty_kinds_text, -- penType_CN 处罚种类
    fields_json ->> 'content'                  AS content,            -- penContent 处罚内容 (ID numbers masked)
    (fields_json ->> 'fine_wan')::DECIMAL(18, 2) AS fine_yuan,        -- penAm 处罚金额, converted to 元 by pipelines/
    (fields_json ->> 'decided_on')::DATE       AS decided_on,         -- penDecIssDate 处罚决定书签发日期
    (fields_json ->> 'published_on')::DATE     AS published_on,       -- publicDate 公示日期
    fields_json ->> 'authority'                AS authority,          -- penAuth_CN 决定机关
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM raw.records
WHERE source = 'gsxt_records' AND record_type = 'penalty'
