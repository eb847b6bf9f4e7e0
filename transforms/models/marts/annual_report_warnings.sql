-- annual_report_warnings -- 年报预警: licensed operators' annual reports for last year not filed yet, with the
-- deadline and the days left (negative: past it). Early warnings, not records: not filing by the deadline is
-- a listing ground (电信业务经营不良名单 for the telecom report, 经营异常名录 for the company report). The period
-- for last year's report opens on 1 January, so from then on the report for year(as_of) - 1 is due; a licence
-- issued after that year owes none. Deadlines and labels: seeds.annual_report_deadlines (one home).
WITH deadlines AS (
    SELECT report_kind, label_zh, label_en, CAST(due_month AS INTEGER) AS due_month,
           CAST(due_day AS INTEGER) AS due_day, basis
    FROM seeds.annual_report_deadlines
),
pending AS (
    SELECT a.*, d.label_zh, d.label_en, d.basis,
           year(getvariable('as_of')) - 1                                           AS report_year,
           make_date(year(getvariable('as_of')), d.due_month, d.due_day)            AS due_on
    FROM core.annual_reports a
    JOIN deadlines d USING (report_kind)
    WHERE a.operator_id IS NOT NULL
)
SELECT
    p.operator_id,
    o.name                                                                  AS operator_name,
    p.report_kind,
    p.licence_no,
    p.lic_id,
    p.subject_name,
    p.report_year,
    p.last_filed_year,
    p.due_on,
    p.due_on - getvariable('as_of')                                         AS days_left,
    getvariable('as_of') > p.due_on                                         AS overdue,
    p.label_en || ' for ' || p.report_year || ' not filed (due ' || strftime(p.due_on, '%Y-%m-%d') || ')'
                                                                            AS warning,
    p.report_year || '年度' || p.label_zh || '未报送（截止' || strftime(p.due_on, '%Y-%m-%d') || '）'
                                                                            AS warning_zh,
    p.basis,
    p.record_id,
    p.first_seen_at
FROM pending p
JOIN core.licensed_operators o USING (operator_id)
WHERE coalesce(p.last_filed_year, 0) < p.report_year
  AND (p.licence_issued_on IS NULL OR year(p.licence_issued_on) <= p.report_year)
ORDER BY days_left, o.name, p.licence_no
