-- operator_risk -- 经营者信用风险: per licensed operator (its own records and its branches' 分公司),
-- open records by type, the newest, list memberships, licences and their expiry, the next abnormal-listing
-- escalation, and dimension 1 of the cloud-service credit evaluation (《云服务企业信用评价办法》: 30 not on
-- either telecom list and no violation record in the telecom credit-management data / 20 not listed but
-- such a record / 10 on the bad list / 0 on the dishonest list), with the records that decided the level
-- (marts.cloud_rating_evidence holds every record considered), and the early warnings of annual reports not
-- filed (marts.annual_report_warnings: telecom licence and company reports, with the nearest deadline).
WITH open_records AS (
    SELECT r.*, t.dishonest_list
    FROM core.operator_records r
    JOIN seeds.record_types t USING (record_type)
    WHERE r.removed_at IS NULL
),
per_operator AS (
    SELECT
        operator_id,
        count(*)                                                        AS open_records,
        count(*) FILTER (via_branch)                                    AS open_records_via_branches,
        count(*) FILTER (record_type = 'penalty')                       AS open_penalties,
        count(*) FILTER (record_type = 'abnormal_operation')            AS open_abnormal_operations,
        count(*) FILTER (record_type = 'serious_illegal_list')          AS open_serious_illegal,
        count(*) FILTER (record_type = 'telecom_bad_list')              AS open_telecom_bad_list,
        count(*) FILTER (record_type = 'telecom_dishonest_list')        AS open_telecom_dishonest_list,
        count(*) FILTER (record_type = 'court_dishonest')               AS open_court_dishonest,
        count(*) FILTER (record_type = 'serious_dishonest_list')        AS open_serious_dishonest_list,
        count(*) FILTER (record_type = 'tax_major_violation')           AS open_tax_major_violations,
        count(*) FILTER (dishonest_list)                                AS open_dishonest_list_records,
        -- on a list = shown and not past its automatic stop (a bad-list entry ends a year after listing)
        count(*) FILTER (record_type = 'telecom_bad_list'
                         AND coalesce(removal_status NOT IN ('expired', 'not_published'), TRUE))
                                                                        AS listed_telecom_bad_list,
        count(*) FILTER (record_type = 'telecom_dishonest_list'
                         AND coalesce(removal_status NOT IN ('expired', 'not_published'), TRUE))
                                                                        AS listed_telecom_dishonest_list,
        max(event_on)                                                   AS newest_record_on,
        count(*) FILTER (removal_status = 'eligible')                   AS eligible_for_repair,
        min(escalation_on)                                              AS next_escalation_on
    FROM open_records
    GROUP BY operator_id
),
history AS (
    SELECT operator_id, count(*) AS records_ever, count(*) FILTER (removed_at IS NOT NULL) AS records_removed
    FROM core.operator_records
    GROUP BY operator_id
),
reviews AS (
    SELECT operator_id, count(*) AS links_to_review FROM core.record_links WHERE status = 'review' GROUP BY 1
),
clean AS (
    SELECT TRY_CAST(score AS INTEGER) AS score, label_zh FROM seeds.cloud_rating_dimension1 WHERE evidence = 'clean'
),
rating AS (
    SELECT
        operator_id,
        min(score) FILTER (scored)                                      AS level,
        count(*) FILTER (needs_review)                                  AS for_review
    FROM marts.cloud_rating_evidence
    GROUP BY operator_id
),
reasons AS (
    -- the records at the operator's level decided it
    SELECT
        e.operator_id,
        string_agg(e.label_zh || '：' || coalesce(e.reference, e.record_id) || '（' || coalesce(CAST(e.event_on AS VARCHAR), '日期不详') || '）'
                   || CASE WHEN e.needs_review THEN '〔待复核〕' ELSE '' END,
                   '; ' ORDER BY e.event_on DESC, e.record_id)          AS reasons
    FROM marts.cloud_rating_evidence e
    JOIN rating r ON r.operator_id = e.operator_id AND e.scored AND e.score = r.level
    GROUP BY e.operator_id
),
annual_reports AS (
    SELECT
        operator_id,
        string_agg(warning || coalesce(' [' || licence_no || ']', '') || ', '
                   || CASE WHEN days_left < 0 THEN -days_left || ' days overdue' ELSE days_left || ' days left' END, '; '
                   ORDER BY days_left, report_kind, licence_no)          AS annual_report_warnings,
        min(due_on)                                                     AS next_annual_report_due_on,
        min(days_left)                                                  AS annual_report_days_left
    FROM marts.annual_report_warnings
    GROUP BY operator_id
),
review_notes AS (
    SELECT operator_id,
           string_agg(coalesce(reference, record_id) || '：' || note, '; ' ORDER BY event_on DESC, record_id)
               AS review_notes
    FROM marts.cloud_rating_evidence
    WHERE needs_review
    GROUP BY operator_id
)
SELECT
    o.operator_id,
    o.name,
    o.uscc,
    o.is_cloud,
    o.is_idc,
    o.is_cdn,
    o.is_isp,
    o.licence_count,
    array_to_string(o.licence_numbers, '; ')                           AS licence_numbers,
    o.next_licence_expiry,
    coalesce(p.open_records, 0)                                        AS open_records,
    coalesce(p.open_records_via_branches, 0)                           AS open_records_via_branches,
    coalesce(p.open_penalties, 0)                                      AS open_penalties,
    coalesce(p.open_abnormal_operations, 0)                            AS open_abnormal_operations,
    coalesce(p.open_serious_illegal, 0)                                AS open_serious_illegal,
    coalesce(p.open_telecom_bad_list, 0)                               AS open_telecom_bad_list,
    coalesce(p.open_telecom_dishonest_list, 0)                         AS open_telecom_dishonest_list,
    coalesce(p.open_court_dishonest, 0)                                AS open_court_dishonest,
    coalesce(p.open_serious_dishonest_list, 0)                         AS open_serious_dishonest_list,
    coalesce(p.open_tax_major_violations, 0)                           AS open_tax_major_violations,
    coalesce(p.open_dishonest_list_records, 0)                         AS open_dishonest_list_records, -- any 失信 list
    p.newest_record_on,
    coalesce(h.records_ever, 0)                                        AS records_ever,
    coalesce(h.records_removed, 0)                                     AS records_removed,
    coalesce(p.eligible_for_repair, 0)                                 AS eligible_for_repair,
    coalesce(r.links_to_review, 0)                                     AS links_to_review,
    coalesce(p.listed_telecom_bad_list, 0) > 0                         AS on_telecom_bad_list,
    coalesce(p.listed_telecom_dishonest_list, 0) > 0                   AS on_telecom_dishonest_list,
    coalesce(g.level, c.score)                                         AS cloud_rating_dimension1,
    getvariable('as_of')                                               AS as_of,
    coalesce(x.reasons, c.label_zh)                                    AS cloud_rating_dimension1_reasons,
    coalesce(g.for_review, 0)                                          AS cloud_rating_entries_for_review,
    n.review_notes                                                     AS cloud_rating_review_notes,
    p.next_escalation_on,
    a.annual_report_warnings,     -- "telecom annual report for YEAR not filed (due DATE) [licence], N days left|overdue"
    a.next_annual_report_due_on,
    a.annual_report_days_left     -- the nearest deadline's days left; negative: past it
FROM core.licensed_operators o
CROSS JOIN clean c
LEFT JOIN per_operator p USING (operator_id)
LEFT JOIN history h USING (operator_id)
LEFT JOIN reviews r USING (operator_id)
LEFT JOIN rating g USING (operator_id)
LEFT JOIN reasons x USING (operator_id)
LEFT JOIN review_notes n USING (operator_id)
LEFT JOIN annual_reports a USING (operator_id)
ORDER BY cloud_rating_dimension1, open_records DESC, o.name
