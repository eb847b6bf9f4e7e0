-- removal_candidates -- 可申请信用修复: open records whose early removal can be applied for now, or
-- within the removal window (removal_window_days, transforms/reporting.py), with the materials to prepare
-- and where to apply (seeds/repair_materials.csv), the last
-- day they are shown anyway (公示截止期) and, for an abnormal listing, the day it moves to the serious list.
SELECT
    r.operator_id,
    o.name                                       AS operator_name,
    r.record_type,
    r.platform,
    r.reference,
    r.subject_name,
    r.event_on,
    r.authority,
    r.removal_status,
    r.early_removal_from,
    r.auto_removal_on,
    r.early_removal_from - getvariable('as_of')  AS days_until_eligible,
    m.materials,
    m.where_to_apply,
    r.basis,
    r.confidence,
    r.record_id,
    r.display_until,
    r.escalation_on,
    r.removal_deadline,
    r.removal_reason
FROM core.operator_records r
JOIN core.licensed_operators o USING (operator_id)
LEFT JOIN seeds.repair_materials m ON m.record_type = r.record_type AND m.platform = r.platform
WHERE r.removed_at IS NULL
  AND r.early_removal_from IS NOT NULL
  AND (r.removal_status = 'eligible'
       OR (r.removal_status = 'waiting'
           AND r.early_removal_from <= getvariable('as_of') + getvariable('removal_window_days')))
ORDER BY r.early_removal_from, o.name
