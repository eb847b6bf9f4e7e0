-- Every licence-risk row is a risk: it expires within the licence window and names the list that blocks
-- renewal, or its telecom annual report is missing (and says for which year and by when).
SELECT licence_no FROM marts.licence_risk
WHERE NOT (
    (days_to_expiry BETWEEN 0 AND getvariable('licence_window_days') AND coalesce(blocking_lists, '') <> '')
    OR (annual_report_warning LIKE 'telecom annual report for % not filed (due %)' AND annual_report_due_on IS NOT NULL)
)
