-- Every licence-risk row expires within the licence window and names the list that blocks renewal.
SELECT licence_no FROM marts.licence_risk
WHERE days_to_expiry < 0 OR days_to_expiry > getvariable('licence_window_days') OR blocking_lists = ''
