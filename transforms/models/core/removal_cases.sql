-- removal_cases -- each current record in the removal engine's case shape (transforms/removal,
-- CASE_COLUMNS + OPTIONAL_CASE_COLUMNS): which dates start its display clock, whether it has been
-- corrected, the province whose 较低数额罚款 threshold applies (core.record_provinces), and, for a
-- 电信业务经营不良名单 entry, the first administrative penalty on record for the same operator decided
-- after the listing (工信部信管〔2018〕54号: a new penalty within the year keeps the entry listed; the
-- engine decides whether it falls within the year). Performance and correction dates come from the
-- registry where it publishes them (an abnormal listing's 移出日期) and otherwise from what the compliance
-- team recorded (ops.compliance_facts, latest entry per record). `assumed_fields` names the fields filled
-- by our default reading rather than the registry (gsxt publishes no domain; no registry publishes the
-- 36号令 / SAMR 2025 severity class), so the answer says so where they decide the rule.
WITH facts AS (
    SELECT * FROM ops.compliance_facts
    QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY recorded_at DESC) = 1
),
operator_of AS (
    SELECT record_id, operator_id FROM core.record_links WHERE status = 'linked'
),
new_penalties AS (
    SELECT
        b.record_id,
        min(p.event_on)                         AS new_penalty_date,
        arg_min(p.reference, p.event_on)        AS new_penalty_reference
    FROM core.credit_records b
    JOIN operator_of bo ON bo.record_id = b.record_id
    JOIN operator_of po ON po.operator_id = bo.operator_id AND po.record_id <> b.record_id
    JOIN core.credit_records p ON p.record_id = po.record_id
    WHERE b.record_type = 'telecom_bad_list' AND b.removed_at IS NULL
      AND p.record_type = 'penalty' AND p.event_on > b.event_on
    GROUP BY b.record_id
)
SELECT
    r.record_id,
    r.record_type,
    r.platform,
    CASE
        WHEN len(r.penalty_kinds) > 0 THEN array_to_string(r.penalty_kinds, '|')
        -- a bad-list entry not for a missing annual report follows an administrative penalty (42号令 Art 37)
        WHEN r.record_type = 'telecom_bad_list' AND r.summary LIKE '%年度报告%' THEN 'annual_report_missing'
        WHEN r.record_type = 'telecom_bad_list' AND nullif(trim(r.summary), '') IS NOT NULL
            THEN 'administrative_penalty'
    END                                                         AS penalty_kinds,
    r.fine_yuan                                                 AS fine_amount_yuan,
    r.domain,
    CASE WHEN r.record_type = 'penalty' THEN r.severity END     AS severity,
    CASE WHEN r.record_type = 'penalty' THEN r.event_on END     AS decision_date,
    r.published_on                                              AS publish_date,
    CASE WHEN r.record_type <> 'penalty' THEN r.event_on END    AS listed_date,
    f.obligations_done_date                                     AS obligations_done_date,
    coalesce(r.corrected_on, f.corrected_date)                  AS corrected_date,
    r.term_years,
    pr.province,
    CASE WHEN r.is_personal THEN 'person' ELSE 'organisation' END AS subject_type,
    np.new_penalty_date,
    np.new_penalty_reference,
    concat_ws('|',
        CASE WHEN coalesce(r.domain_assumed, FALSE) THEN 'domain' END,
        CASE WHEN r.record_type = 'penalty' THEN 'severity' END) AS assumed_fields
FROM core.credit_records r
LEFT JOIN facts f USING (record_id)
LEFT JOIN core.record_provinces pr USING (record_id)
LEFT JOIN new_penalties np USING (record_id)
WHERE r.removed_at IS NULL
