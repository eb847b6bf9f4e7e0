-- operator_records -- every record (current and removed) linked to a licensed operator, with its
-- removal status: the join marts read. `via_branch` marks a record against a branch (分公司) that the
-- linker attached to its parent operator.
SELECT
    l.operator_id,
    r.record_id,
    r.source,
    r.record_type,
    r.platform,
    r.reference,
    r.display_name                     AS subject_name,
    r.subject_uscc,
    l.is_branch                        AS via_branch,
    l.method                           AS link_method,
    l.score                            AS link_score,
    r.event_on,
    r.published_on,
    r.authority,
    r.summary,
    r.penalty_kinds,
    r.fine_yuan,
    r.url,
    r.first_seen_at,
    r.last_seen_at,
    r.removed_at,
    s.status                           AS removal_status,
    s.early_removal_from,
    s.auto_removal_on,
    s.escalation_on,
    s.rule_id,
    s.basis,
    s.confidence,
    s.error                            AS removal_error,
    s.display_until,                   -- last day shown (公示截止期); auto_removal_on is the day after
    s.removal_deadline,                -- the body must have removed it by (official working days)
    s.alt_rule_id,                     -- the rule's alternative reading (36号令 beside 58号令)
    s.alt_early_removal_from,
    s.alt_auto_removal_on,
    s.reason                           AS removal_reason,  -- "unknown: needs <field>", assumptions, …
    p.province
FROM core.record_links l
JOIN core.credit_records r USING (record_id)
LEFT JOIN core.removal_status s USING (record_id)
LEFT JOIN core.record_provinces p USING (record_id)
WHERE l.status = 'linked'
