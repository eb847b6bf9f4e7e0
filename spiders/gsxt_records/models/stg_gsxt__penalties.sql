-- stg_gsxt__penalties -- administrative penalties (行政处罚) published on the 公示系统 (gsxt punishmentdetail):
-- one row per decision (source gsxt_records). Rename and cast only.
SELECT
    record_id,
    natural_key                                AS decision_no_raw,    -- penDecNo as published
    field.decision_no                          AS decision_no,        -- 行政处罚决定书文号 (cleaned)
    field.subject_name                         AS subject_name,       -- 企业名称 (cleaned)
    field.subject_uscc                         AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                     AS subject_uscc_raw,   -- as published
    field.violation_type                       AS violation_type,     -- illegActType 违法行为类型
    field.penalty_kinds_text                   AS penalty_kinds_text, -- penType_CN 处罚种类
    field.content                              AS content,            -- penContent 处罚内容 (ID numbers masked)
    (field.fine_wan)::DECIMAL(18, 2)           AS fine_yuan,        -- penAm 处罚金额, converted to 元 by pipelines/
    (field.decided_on)::DATE                   AS decided_on,         -- penDecIssDate 处罚决定书签发日期
    (field.published_on)::DATE                 AS published_on,       -- publicDate 公示日期
    field.authority                            AS authority,          -- penAuth_CN 决定机关
    url,
    first_seen_at,
    last_seen_at,
    removed_at
FROM (
    -- the JSON parsed once per record (`->>` would parse it again for every field)
    SELECT *, json_transform(fields_json, '{
        "decision_no": "VARCHAR",
        "subject_name": "VARCHAR",
        "subject_uscc": "VARCHAR",
        "subject_uscc_raw": "VARCHAR",
        "violation_type": "VARCHAR",
        "penalty_kinds_text": "VARCHAR",
        "content": "VARCHAR",
        "fine_wan": "VARCHAR",
        "decided_on": "VARCHAR",
        "published_on": "VARCHAR",
        "authority": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'gsxt_records' AND record_type = 'penalty'
