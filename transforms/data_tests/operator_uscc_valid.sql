-- An operator id that looks like a USCC is the operator's USCC (never a name hash in disguise).
SELECT operator_id FROM core.licensed_operators
WHERE uscc IS NOT NULL AND operator_id <> uscc
