-- operator_risk -- 经营者信用风险: per licensed operator (its own records and its branches' 分公司),
-- open records by type, the newest, list memberships, licences and their expiry, and dimension 1 of
-- the cloud-service credit evaluation (《云服务企业信用评价办法》: 30 not on either telecom list and a
-- clean history / 20 not listed but a record in the history / 10 on the bad list / 0 on the dishonest list).
WITH open_records AS (
    SELECT r.*, t.dishonest_list
    FROM core.operator_records r
    JOIN seeds.record_types t USING (record_type)
    WHERE r.removed_at IS NULL
),
per_operator AS (
    SELECT
        operator_id,
        count(*)                                                        AS open_records,
        count(*) FILTER (via_branch)                                    AS open_records_via_branches,
        count(*) FILTER (record_type = 'penalty')                       AS open_penalties,
        count(*) FILTER (record_type = 'abnormal_operation')            AS open_abnormal_operations,
        count(*) FILTER (record_type = 'serious_illegal_list')          AS open_serious_illegal,
        count(*) FILTER (record_type = 'telecom_bad_list')              AS open_telecom_bad_list,
        count(*) FILTER (record_type = 'telecom_dishonest_list')        AS open_telecom_dishonest_list,
        count(*) FILTER (record_type = 'court_dishonest')               AS open_court_dishonest,
        count(*) FILTER (dishonest_list)                                AS open_dishonest_list_records,
        max(event_on)                                                   AS newest_record_on,
        count(*) FILTER (removal_status = 'eligible')                   AS eligible_for_repair
    FROM open_records
    GROUP BY operator_id
),
history AS (
    SELECT operator_id, count(*) AS records_ever, count(*) FILTER (removed_at IS NOT NULL) AS records_removed
    FROM core.operator_records
    GROUP BY operator_id
),
reviews AS (
    SELECT operator_id, count(*) AS links_to_review FROM core.record_links WHERE status = 'review' GROUP BY 1
)
SELECT
    o.operator_id,
    o.name,
    o.uscc,
    o.is_cloud,
    o.is_idc,
    o.is_cdn,
    o.is_isp,
    o.licence_count,
    array_to_string(o.licence_numbers, '; ')                           AS licence_numbers,
    o.next_licence_expiry,
    coalesce(p.open_records, 0)                                        AS open_records,
    coalesce(p.open_records_via_branches, 0)                           AS open_records_via_branches,
    coalesce(p.open_penalties, 0)                                      AS open_penalties,
    coalesce(p.open_abnormal_operations, 0)                            AS open_abnormal_operations,
    coalesce(p.open_serious_illegal, 0)                                AS open_serious_illegal,
    coalesce(p.open_telecom_bad_list, 0)                               AS open_telecom_bad_list,
    coalesce(p.open_telecom_dishonest_list, 0)                         AS open_telecom_dishonest_list,
    coalesce(p.open_court_dishonest, 0)                                AS open_court_dishonest,
    coalesce(p.open_dishonest_list_records, 0)                         AS open_dishonest_list_records, -- any 失信 list
    p.newest_record_on,
    coalesce(h.records_ever, 0)                                        AS records_ever,
    coalesce(h.records_removed, 0)                                     AS records_removed,
    coalesce(p.eligible_for_repair, 0)                                 AS eligible_for_repair,
    coalesce(r.links_to_review, 0)                                     AS links_to_review,
    coalesce(p.open_telecom_bad_list, 0) > 0                           AS on_telecom_bad_list,
    coalesce(p.open_telecom_dishonest_list, 0) > 0                     AS on_telecom_dishonest_list,
    CASE
        WHEN coalesce(p.open_telecom_dishonest_list, 0) > 0 THEN 0
        WHEN coalesce(p.open_telecom_bad_list, 0) > 0 THEN 10
        WHEN coalesce(h.records_ever, 0) > 0 THEN 20
        ELSE 30
    END                                                                AS cloud_rating_dimension1,
    getvariable('as_of')                                               AS as_of
FROM core.licensed_operators o
LEFT JOIN per_operator p USING (operator_id)
LEFT JOIN history h USING (operator_id)
LEFT JOIN reviews r USING (operator_id)
ORDER BY cloud_rating_dimension1, open_records DESC, o.name
