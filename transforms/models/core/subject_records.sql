-- refresh: by record_id (one row per record, computed from that record alone: transforms/refresh.py)
-- subject_records -- every record (current or removed, so history links too) that names a subject (penalty 行政处罚, abnormal_operation
-- 经营异常名录, list entries 不良/失信名单, 失信被执行人 …), ready for linking to licensed operators. No last_seen_at:
-- it moves for every record every week, and a refresh would rewrite every row for a column the linker never reads.
-- pair_key: the (name, USCC) pair the linker decides once for every record naming it (core.record_links).
SELECT record_id, source, record_type, subject_name, subject_uscc, first_seen_at,
       md5(subject_name || chr(31) || coalesce(subject_uscc, '')) AS pair_key
FROM core.credit_records

