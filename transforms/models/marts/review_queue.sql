-- review_queue -- 待复核: links the linker could not decide (a one-character slip in a trade name, an
-- ambiguous alias …): the record, the best candidate operator, the score and the evidence. An analyst
-- answers with `creditwatch review accept|reject`.
SELECT
    r.record_type,
    r.platform,
    r.reference,
    r.display_name                                AS subject_name,
    r.subject_uscc,
    l.operator_id                                 AS candidate_operator_id,
    o.name                                        AS candidate_operator_name,
    l.method,
    l.score,
    l.evidence,
    r.event_on,
    r.record_id
FROM core.record_links l
JOIN core.credit_records r USING (record_id)
LEFT JOIN core.licensed_operators o ON o.operator_id = l.operator_id
WHERE l.status = 'review' AND r.removed_at IS NULL
ORDER BY l.score DESC
