-- refresh: by record_id (one row per record, computed from that record alone: transforms/refresh.py)
-- record_provinces -- 省份 of each record, derived from the record as data (seeds.province_places): the
-- province (or a city of it) the deciding authority's name starts with (北京市通信管理局 → 北京,
-- 深圳市市场监督管理局 → 广东); failing that, the subject's USCC, whose 3rd–4th characters are the
-- province code of the registering authority (GB/T 2260). NULL for national bodies with no USCC to fall
-- back on. The removal rules read it for the province's 较低数额罚款 threshold; reports group by it.
WITH places AS (
    SELECT place, province, division_code FROM seeds.province_places
),
by_authority AS (
    SELECT r.record_id, arg_max(p.province, length(p.place)) AS province
    FROM core.credit_records r
    JOIN places p ON left(r.authority, 2) = left(p.place, 2) AND starts_with(r.authority, p.place)
    GROUP BY r.record_id
),
by_code AS (
    SELECT DISTINCT division_code, province FROM places
)
SELECT
    r.record_id,
    coalesce(a.province, c.province)                                  AS province,
    CASE WHEN a.province IS NOT NULL THEN 'authority'
         WHEN c.province IS NOT NULL THEN 'subject_uscc' END          AS province_from
FROM core.credit_records r
LEFT JOIN by_authority a USING (record_id)
LEFT JOIN by_code c ON c.division_code = substr(r.subject_uscc, 3, 2)
