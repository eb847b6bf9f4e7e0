-- cloud_rating_evidence -- 云服务企业信用评价 维度一 (《云服务企业信用评价办法》, its indicator and notes as
-- removal-rules.md "Corrections 6" reads them): per licensed operator, every record of the telecom
-- credit-management data -- MIIT administrative penalties (decided by 工业和信息化部 or a 通信管理局:
-- domain telecom) and 不良名单 / 失信名单 entries -- and what it does to the operator's level
-- (seeds.cloud_rating_dimension1): 0 on the dishonest list, 10 on the bad list, 20 a violation record
-- (a past entry or a penalty), 30 none. Records of other registries (gsxt, courts, 信用中国 penalties of
-- other authorities) are not that data and do not appear. Entries for licensed business other than cloud
-- (B11-cloud) are not scored but listed for a person (indicator note 1); records before 2018-01-22 are
-- not counted (note 2). An entry whose licence cannot be told is counted (the cautious reading) and
-- flagged `needs_review` with the field it needs.
WITH levels AS (
    SELECT evidence, TRY_CAST(score AS INTEGER) AS score, label_zh, label_en, note
    FROM seeds.cloud_rating_dimension1
),
counted_from AS (
    SELECT min(TRY_CAST(counted_from AS DATE)) AS day FROM seeds.cloud_rating_dimension1
),
telecom_records AS (
    SELECT
        r.operator_id, r.record_id, r.record_type, r.reference, r.event_on, r.authority, r.removed_at,
        r.removal_status, r.display_until, t.licence_no, t.licence_codes
    FROM core.operator_records r
    JOIN core.credit_records c USING (record_id)
    LEFT JOIN core.telecom_list_licences t USING (record_id)
    WHERE r.record_type IN ('telecom_bad_list', 'telecom_dishonest_list')
       OR (r.record_type = 'penalty' AND c.domain = 'telecom')
),
judged AS (
    SELECT
        t.*,
        o.is_cloud AS operator_is_cloud,
        -- on the list at the as-of date: still shown and not past its automatic stop
        t.record_type <> 'penalty' AND t.removed_at IS NULL
            AND coalesce(t.removal_status NOT IN ('expired', 'not_published'), TRUE) AS listed_now,
        CASE
            WHEN t.record_type = 'penalty' THEN NULL
            WHEN list_contains(t.licence_codes, 'B11-cloud') THEN 'cloud'
            WHEN t.licence_codes IS NOT NULL THEN 'other'
            WHEN NOT o.is_cloud THEN 'other'  -- the operator holds no cloud business at all
            ELSE 'unknown'
        END AS business
    FROM telecom_records t
    JOIN core.licensed_operators o USING (operator_id)
),
classified AS (
    SELECT
        j.*,
        CASE
            WHEN j.event_on < (SELECT day FROM counted_from) THEN 'before_counting'
            WHEN j.business = 'other' THEN 'unrelated_business'
            WHEN j.record_type = 'telecom_dishonest_list' AND j.listed_now THEN 'dishonest_list'
            WHEN j.record_type = 'telecom_bad_list' AND j.listed_now THEN 'bad_list'
            ELSE 'violation_record'
        END AS evidence
    FROM judged j
)
SELECT
    c.operator_id,
    o.name                                                     AS operator_name,
    c.record_id,
    c.record_type,
    c.reference,
    c.event_on,
    c.authority,
    c.licence_no,
    array_to_string(c.licence_codes, '; ')                     AS licence_business_codes,
    c.listed_now,
    c.evidence,
    l.score,
    l.score IS NOT NULL                                        AS scored,
    l.label_zh,
    l.label_en,
    c.evidence = 'unrelated_business' OR c.business = 'unknown' AS needs_review,
    concat_ws('; ',
        l.note,
        CASE WHEN c.business = 'unknown' AND c.licence_no IS NULL
            THEN 'unknown: needs licence_no (the entry names no licence; counted as cloud business until checked)'
             WHEN c.business = 'unknown'
            THEN 'unknown: the business types of licence ' || c.licence_no
                 || ' are not on record (counted as cloud business until checked)' END,
        CASE WHEN c.record_type <> 'penalty' AND NOT c.listed_now AND c.removal_status = 'expired'
            THEN 'list entry ended ' || (c.display_until + 1) END)  AS note,
    getvariable('as_of')                                       AS as_of
FROM classified c
JOIN core.licensed_operators o USING (operator_id)
LEFT JOIN levels l USING (evidence)
ORDER BY o.name, c.event_on DESC, c.record_id
