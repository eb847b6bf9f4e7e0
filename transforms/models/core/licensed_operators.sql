-- licensed_operators -- 持证电信业务经营者: one row per operator holding at least one current MIIT
-- licence. The operator's id is its USCC (统一社会信用代码) where valid.
SELECT
    operator_id,
    any_value(uscc)                                          AS uscc,
    arg_max(company_name, last_seen_at)                      AS name,           -- latest published name
    list(DISTINCT company_name ORDER BY company_name)        AS published_names, -- 曾用名 candidates
    count(*)                                                 AS licence_count,
    list(DISTINCT licence_no ORDER BY licence_no)            AS licence_numbers,
    list_sort(list_distinct(flatten(list(business_codes))))  AS business_codes,
    list_contains(flatten(list(business_codes)), 'B11-cloud') AS is_cloud,      -- 互联网资源协作服务
    list_has_any(flatten(list(business_codes)), ['B11', 'B11-cloud']) AS is_idc,
    list_contains(flatten(list(business_codes)), 'B12')     AS is_cdn,
    list_contains(flatten(list(business_codes)), 'B14')     AS is_isp,
    min(expires_on)                                          AS next_licence_expiry
FROM core.licences
GROUP BY operator_id
