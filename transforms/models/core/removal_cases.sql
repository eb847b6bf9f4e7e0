-- removal_cases -- each current record in the removal engine's case shape (transforms/removal,
-- CASE_COLUMNS): which dates start its display clock and whether it has been corrected. Performance and
-- correction dates come from the registry where it publishes them (an abnormal listing's 移出日期) and
-- otherwise from what the compliance team recorded (ops.compliance_facts, latest entry per record).
SELECT
    record_id,
    record_type,
    platform,
    array_to_string(penalty_kinds, '|')                       AS penalty_kinds,
    fine_yuan                                                 AS fine_amount_yuan,
    domain,
    CASE WHEN record_type = 'penalty' THEN severity END       AS severity,
    CASE WHEN record_type = 'penalty' THEN event_on END       AS decision_date,
    published_on                                              AS publish_date,
    CASE WHEN record_type <> 'penalty' THEN event_on END      AS listed_date,
    f.obligations_done_date                                   AS obligations_done_date,
    coalesce(r.corrected_on, f.corrected_date)                AS corrected_date,
    term_years,
    NULL::VARCHAR                                             AS province,
    CASE WHEN is_personal THEN 'person' ELSE 'organisation' END AS subject_type
FROM core.credit_records r
LEFT JOIN (
    SELECT * FROM ops.compliance_facts
    QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY recorded_at DESC) = 1
) f USING (record_id)
WHERE r.removed_at IS NULL
