"""Credit-repair cases (信用修复案件): from a removal flag to the record verified gone.

- cases.py: the case and its state machine (open → submitted → accepted | rejected → removed_verified |
  still_shown), every transition in ops.repair_case_events and ops.audit;
- deadlines.py: each platform's handling and sync time (seeds/repair_handling_times.csv) in working days on
  China's official calendar (transforms/workdays.py), and when a case is overdue (逾期);
- pack.py: the application pack (申请材料) written to exports/repair/<case>/;
- verify.py: after acceptance, the first complete crawl of the record's source that no longer shows it
  closes the case removed_verified; still shown after the deadline → still_shown (flagged).
"""
