-- creditchina_serious_dishonest in the core record shape (core.credit_records): each 严重失信主体名单 entry
-- as a `serious_dishonest_list` record, referenced by its 认定文书号; the summary names the list and the reason.
SELECT
    record_id, 'serious_dishonest_list' AS record_type, coalesce(document_no, entry_key) AS reference, subject_name,
    listed_on AS event_on, url, first_seen_at, last_seen_at, removed_at,
    subject_uscc, listed_on AS published_on, authority, list_name || '：' || reason AS summary
FROM staging.stg_creditchina__serious_dishonest
