-- open_records -- 在公示: every record still shown by a registry and linked to a licensed operator,
-- with the day it may be removed early (信用修复), the last day it is shown (公示截止期) and the first day
-- it is not (停止公示), the day an uncorrected abnormal listing moves to the serious list, the alternative
-- reading where the regime is unresolved (36号令 beside 58号令), and why.
SELECT
    r.operator_id,
    o.name                                       AS operator_name,
    r.record_type,
    r.platform,
    r.reference,
    r.subject_name,
    r.via_branch,
    r.event_on,
    r.authority,
    r.summary,
    array_to_string(r.penalty_kinds, '|')        AS penalty_kinds,
    r.fine_yuan,
    r.removal_status,
    r.early_removal_from,
    r.auto_removal_on,
    r.escalation_on,
    r.rule_id,
    r.basis,
    r.confidence,
    r.removal_error,
    r.url,
    r.first_seen_at,
    r.record_id,
    r.display_until,
    r.removal_deadline,
    r.alt_rule_id,
    r.alt_early_removal_from,
    r.alt_auto_removal_on,
    r.removal_reason,
    r.province
FROM core.operator_records r
JOIN core.licensed_operators o USING (operator_id)
WHERE r.removed_at IS NULL
ORDER BY o.name, r.event_on DESC
