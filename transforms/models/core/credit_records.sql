-- credit_records -- every negative credit record ever published about a subject, all sources in one
-- shape: penalty 行政处罚, abnormal_operation 经营异常名录, serious_illegal_list 严重违法失信名单,
-- telecom_bad_list 电信业务经营不良名单, telecom_dishonest_list 失信名单, court_dishonest 失信被执行人.
-- removed_at is set when a complete crawl of the source no longer shows the record.
WITH penalties AS (
    SELECT record_id, 'creditchina_penalties' AS source, 'creditchina' AS platform, decision_no AS reference,
           subject_name, subject_uscc, decided_on, published_on, authority, content AS summary,
           penalty_kinds_text, fine_yuan, domain, url, first_seen_at, last_seen_at, removed_at
    FROM staging.stg_creditchina__penalties
    UNION ALL BY NAME
    SELECT record_id, 'gsxt_records' AS source, 'gsxt' AS platform, decision_no AS reference,
           subject_name, subject_uscc, decided_on, published_on, authority, content AS summary,
           penalty_kinds_text, fine_yuan, NULL AS domain, url, first_seen_at, last_seen_at, removed_at
    FROM staging.stg_gsxt__penalties
),
penalty_rows AS (
    SELECT
        *,
        -- 处罚类别 text → the removal rules' vocabulary (transforms/removal/rules.yaml)
        list_filter([
            CASE WHEN penalty_kinds_text LIKE '%警告%' THEN 'warning' END,
            CASE WHEN penalty_kinds_text LIKE '%通报批评%' THEN 'circulated_criticism' END,
            CASE WHEN penalty_kinds_text LIKE '%罚款%' THEN 'fine' END,
            CASE WHEN penalty_kinds_text LIKE '%没收%' THEN 'confiscation' END,
            CASE WHEN penalty_kinds_text LIKE '%停产停业%' THEN 'suspension_of_business' END,
            CASE WHEN penalty_kinds_text LIKE '%限制开展生产经营活动%' THEN 'production_restriction' END,
            CASE WHEN penalty_kinds_text LIKE '%限制从业%' THEN 'employment_restriction' END,
            CASE WHEN penalty_kinds_text LIKE '%降低资质等级%' THEN 'qualification_downgrade' END,
            CASE WHEN penalty_kinds_text LIKE '%暂扣%' THEN 'licence_suspension' END,
            CASE WHEN penalty_kinds_text LIKE '%吊销%许可%' THEN 'licence_revocation' END,
            CASE WHEN penalty_kinds_text LIKE '%吊销营业执照%' THEN 'business_licence_revocation' END
        ], lambda k: k IS NOT NULL) AS penalty_kinds
    FROM penalties
),
unioned AS (
SELECT
    record_id, source, 'penalty' AS record_type, platform, reference, subject_name, subject_uscc,
    decided_on AS event_on, published_on, authority, summary, penalty_kinds, fine_yuan,
    -- gsxt publishes no domain: read as general (the 6-month SAMR path), which understates food, drug and
    -- special-equipment penalties (1 year); `domain_assumed` says so.
    coalesce(domain, CASE WHEN platform = 'gsxt' THEN 'general' END) AS domain,
    platform = 'gsxt' AND domain IS NULL AS domain_assumed,
    -- 36号令 classes, our default reading until sector standards are loaded (removal-rules.md 1c: the
    -- sector authorities set the detailed classification): revocation / employment restriction → serious;
    -- a warning or circulated criticism alone → minor; the rest → general.
    CASE
        WHEN list_has_any(penalty_kinds, ['licence_revocation', 'business_licence_revocation',
                                          'employment_restriction']) THEN 'serious'
        WHEN len(penalty_kinds) > 0 AND list_has_all(['warning', 'circulated_criticism'], penalty_kinds) THEN 'minor'
        ELSE 'general'
    END AS severity,
    NULL::DATE AS corrected_on, NULL::INTEGER AS term_years, url, first_seen_at, last_seen_at, removed_at
FROM penalty_rows
UNION ALL BY NAME
SELECT record_id, 'gsxt_records' AS source, 'abnormal_operation' AS record_type, 'gsxt' AS platform,
       listing_key AS reference, subject_name, subject_uscc, listed_on AS event_on, listed_on AS published_on,
       authority, reason AS summary,
       CASE WHEN reason LIKE '%年度报告%' THEN ['annual_report_missing'] ELSE []::VARCHAR[] END AS penalty_kinds,
       removed_on AS corrected_on, url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_gsxt__abnormal_operations
UNION ALL BY NAME
SELECT record_id, 'gsxt_records' AS source, 'serious_illegal_list' AS record_type, 'gsxt' AS platform,
       listing_key AS reference, subject_name, subject_uscc, listed_on AS event_on, listed_on AS published_on,
       authority, reason AS summary, []::VARCHAR[] AS penalty_kinds, removed_on AS corrected_on,
       url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_gsxt__serious_illegal
UNION ALL BY NAME
SELECT record_id, 'miit_telecom_lists' AS source,
       CASE list_kind WHEN 'dishonest' THEN 'telecom_dishonest_list' ELSE 'telecom_bad_list' END AS record_type,
       'miit' AS platform, notice_title AS reference, subject_name, subject_uscc,
       coalesce(decided_on, notice_published_on) AS event_on, notice_published_on AS published_on,
       unit AS authority, reason AS summary,
       CASE WHEN reason LIKE '%年报%' THEN ['annual_report_missing'] ELSE []::VARCHAR[] END AS penalty_kinds,
       notice_url AS url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_miit__telecom_list_entries
UNION ALL BY NAME
SELECT record_id, 'court_dishonest' AS source, 'court_dishonest' AS record_type, 'court' AS platform,
       case_code AS reference, subject_name, subject_uscc, published_on AS event_on, published_on,
       court AS authority, disrupt_type AS summary, []::VARCHAR[] AS penalty_kinds,
       subject_id_number IS NOT NULL AS is_personal, url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_court__dishonest
)
SELECT
    * EXCLUDE (is_personal),
    -- 个体工商户 (USCC 92…) and natural persons are personal data: shown masked, purged after display ends
    coalesce(is_personal, FALSE) OR coalesce(subject_uscc LIKE '92%', FALSE) AS is_personal,
    CASE WHEN coalesce(is_personal, FALSE) OR coalesce(subject_uscc LIKE '92%', FALSE)
         THEN left(subject_name, 1) || repeat('*', greatest(length(subject_name) - 1, 1))
         ELSE subject_name END AS display_name
FROM unioned
