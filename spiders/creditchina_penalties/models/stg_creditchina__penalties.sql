-- stg_creditchina__penalties -- administrative penalties 行政处罚 published on 信用中国 (source
-- creditchina_penalties), one row per 行政处罚决定书文号. Rename and cast only; the fine is in 元 (the
-- pipeline converts a 罚款金额(万元) cell to 元 into fields.fine_wan; fine_published_unit says which).
SELECT
    record_id,
    natural_key                                     AS decision_no_raw,    -- cf_wsh as published
    field.decision_no                               AS decision_no,        -- 行政处罚决定书文号
    field.subject_name                              AS subject_name,       -- 行政相对人名称 (cleaned)
    field.subject_uscc                              AS subject_uscc,       -- 统一社会信用代码, NULL unless valid
    field.subject_uscc_raw                          AS subject_uscc_raw,   -- as published
    field.legal_rep                                 AS legal_rep,          -- 法定代表人 (personal data)
    field.facts                                     AS facts,              -- 违法事实 (ID numbers masked)
    field.basis                                     AS basis,              -- 处罚依据
    field.penalty_kinds_text                        AS penalty_kinds_text, -- 处罚类别
    field.content                                   AS content,            -- 处罚内容
    COALESCE(field.fine_yuan, field.fine_wan)::DECIMAL(18, 2)
                                                    AS fine_yuan,          -- 罚款金额, in 元 whatever the unit
    CASE WHEN field.fine_wan IS NOT NULL THEN '万元'
         WHEN field.fine_yuan IS NOT NULL THEN '元' END
                                                    AS fine_published_unit, -- 罚款金额(万元) or (元)
    (field.decided_on)::DATE                        AS decided_on,         -- 处罚决定日期
    (field.published_on)::DATE                      AS published_on,       -- 数据更新时间 (cf_sjc)
    field.authority                                 AS authority,          -- 处罚机关
    field.authority_uscc                            AS authority_uscc,     -- 处罚机关统一社会信用代码
    field.data_source                               AS data_source,        -- 数据来源单位
    field.domain                                    AS domain,             -- telecom when a 通信管理局 decided
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
        "legal_rep": "VARCHAR",
        "facts": "VARCHAR",
        "basis": "VARCHAR",
        "penalty_kinds_text": "VARCHAR",
        "content": "VARCHAR",
        "fine_yuan": "VARCHAR",
        "fine_wan": "VARCHAR",
        "decided_on": "VARCHAR",
        "published_on": "VARCHAR",
        "authority": "VARCHAR",
        "authority_uscc": "VARCHAR",
        "data_source": "VARCHAR",
        "domain": "VARCHAR"
    }') AS field
    FROM raw.records
)
WHERE source = 'creditchina_penalties' AND record_type = 'penalty'
