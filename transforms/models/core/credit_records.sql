-- refresh: by record_id (one row per record, computed from that record alone: transforms/refresh.py)
-- credit_records -- every negative credit record ever published about a subject, all sources in one shape:
-- each source's models/credit_records.sql, unioned (staging.credit_records_unioned; record types and their
-- labels and flags in seeds.record_types, platforms in seeds.sources). removed_at is set when a complete
-- crawl of the source no longer shows the record.
WITH unioned AS (
    SELECT u.*, s.platform
    FROM staging.credit_records_unioned u
    JOIN seeds.sources s ON s.source = u.source
),
typed AS (
    SELECT
        * EXCLUDE (penalty_kinds, domain, domain_assumed, is_personal),
        -- 处罚类别 text → the removal rules' vocabulary (transforms/removal/rules.yaml); other record types
        -- say their kinds themselves
        coalesce(penalty_kinds, list_filter([
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
        ], lambda k: k IS NOT NULL)) AS penalty_kinds,
        domain,
        coalesce(domain_assumed, FALSE) AS domain_assumed,
        is_personal
    FROM unioned
),
classed AS (
    SELECT
        *,
        -- 36号令 classes, our default reading until sector standards are loaded (removal-rules.md 1c: the
        -- sector authorities set the detailed classification): revocation / employment restriction → serious;
        -- a warning or circulated criticism alone → minor; the rest → general.
        CASE
            WHEN record_type <> 'penalty' THEN NULL
            WHEN list_has_any(penalty_kinds, ['licence_revocation', 'business_licence_revocation',
                                              'employment_restriction']) THEN 'serious'
            WHEN len(penalty_kinds) > 0 AND list_has_all(['warning', 'circulated_criticism'], penalty_kinds)
                THEN 'minor'
            ELSE 'general'
        END AS severity
    FROM typed
)
SELECT
    record_id, source, record_type, platform, reference, subject_name, subject_uscc, event_on, published_on,
    authority, summary, penalty_kinds, fine_yuan, domain, domain_assumed, severity, corrected_on, term_years,
    url, first_seen_at, last_seen_at, removed_at,
    -- 个体工商户 (USCC prefix: pipelines.uscc.PERSONAL_USCC_PREFIX) and natural persons are personal data:
    -- shown masked, purged after display ends
    coalesce(is_personal, FALSE)
        OR coalesce(starts_with(subject_uscc, getvariable('personal_uscc_prefix')), FALSE) AS is_personal,
    CASE WHEN coalesce(is_personal, FALSE)
              OR coalesce(starts_with(subject_uscc, getvariable('personal_uscc_prefix')), FALSE)
         THEN left(subject_name, 1) || repeat('*', greatest(length(subject_name) - 1, 1))
         ELSE subject_name END AS display_name
FROM classed
