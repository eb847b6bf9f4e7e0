-- annual_report_due -- 年报未报送: a licensed operator's annual report for last year not filed
-- (marts.annual_report_warnings: the telecom licence report due 31 March, the company report due 30 June).
-- It happened when the filing period opened (1 January of the year after) or when the fact was first seen, if
-- later; one event per report and year, so next year's missing report alerts again.
WITH warnings AS (
    SELECT *, greatest(make_date(report_year + 1, 1, 1)::TIMESTAMP, first_seen_at) AS entered_at
    FROM marts.annual_report_warnings
)
SELECT record_id AS subject, CAST(report_year AS VARCHAR) AS discriminator, entered_at AS occurred_at,
       operator_id, operator_name AS company, coalesce(licence_no, subject_name) AS reference, record_id,
       due_on AS event_on,
       warning_zh || CASE WHEN days_left < 0 THEN '，已逾期 ' || -days_left || ' 天' ELSE '，剩 ' || days_left || ' 天' END
           AS detail
FROM warnings
WHERE entered_at >= $since
