-- Every licence-risk row expires within 180 days and names the list that blocks renewal.
SELECT licence_no FROM marts.licence_risk
WHERE days_to_expiry < 0 OR days_to_expiry > 180 OR blocking_lists = ''
