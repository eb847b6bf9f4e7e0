-- repair_overdue -- 修复案件逾期: a repair case past its deadline (marts.repair_cases, working days on the
-- official calendar): submitted and no outcome recorded within the platform's handling time, accepted and
-- not yet verified gone after handling + sync time, or flagged still_shown by a crawl. It happened the day
-- after the deadline (a still_shown case without a computable deadline: the day the crawl still showed it);
-- one event per case, state and deadline, so a case that goes on to be flagged still_shown alerts again.
-- Not limited to the alert window (since): being overdue is a standing condition, alerted however late it is noticed (a
-- submission recorded weeks after it was made); the outbox still sends each event once per channel.
SELECT c.case_id AS subject,
       c.state || ':' || coalesce(c.deadline::VARCHAR, '') AS discriminator,
       coalesce((c.deadline + 1)::TIMESTAMP, c.verified_on::TIMESTAMP, c.opened_on::TIMESTAMP) AS occurred_at,
       c.operator_id, c.record_id, c.operator_name AS company, c.subject_name AS party, c.record_type,
       c.reference, c.authority, c.deadline AS event_on,
       '修复案件 ' || c.case_id || CASE c.state
           WHEN 'submitted' THEN '：已于 ' || c.submitted_on || ' 向 ' || c.platform || ' 提交，应于 '
                || coalesce(c.deadline::VARCHAR, '（期限未能计算）') || ' 前答复，尚未录入结果'
           WHEN 'accepted' THEN '：' || c.outcome_on || ' 已同意修复，应于 '
                || coalesce(c.deadline::VARCHAR, '（期限未能计算）') || ' 前撤下，尚无完整抓取核实撤下'
           ELSE '：已同意修复，但 ' || c.verified_on || ' 的抓取仍公示此记录（应于 '
                || coalesce(c.deadline::VARCHAR, '（期限未能计算）') || ' 前撤下）'
       END AS detail
FROM marts.repair_cases c
WHERE c.overdue
