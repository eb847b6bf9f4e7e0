-- repair_cases_consistent -- marts.repair_cases: one row per case, and each state carries what it needs
-- (a submitted case its platform and date, a decided one its outcome date, a verified or flagged one the
-- crawl's date); a case past a deadline has the deadline, or says why it has none.
SELECT case_id, 'duplicate case' AS problem FROM marts.repair_cases GROUP BY case_id HAVING count(*) > 1
UNION ALL
SELECT case_id, 'state without its facts' FROM marts.repair_cases
WHERE (state <> 'open' AND (submitted_on IS NULL OR platform IS NULL))
   OR (state IN ('accepted', 'rejected', 'removed_verified', 'still_shown') AND outcome_on IS NULL)
   OR (state IN ('removed_verified', 'still_shown') AND verified_on IS NULL)
UNION ALL
SELECT case_id, 'overdue without a deadline' FROM marts.repair_cases
WHERE overdue AND deadline IS NULL AND deadline_note IS NULL AND state <> 'still_shown'
