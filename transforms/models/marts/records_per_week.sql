-- records_per_week -- 每周记录数: records on licensed operators (current and removed) per operator, record
-- type and the reporting week of their decision/listing date (event_on, a China date), for the report's
-- trend. The report keeps the last TREND_WEEKS weeks (transforms/reporting.py) and the scope's operators.
SELECT
    operator_id,
    reporting_week(event_on)                      AS reporting_week,
    record_type,
    count(*)                                      AS records
FROM core.operator_records
WHERE event_on IS NOT NULL AND event_on <= getvariable('as_of')
GROUP BY ALL
ORDER BY reporting_week, operator_id, record_type
