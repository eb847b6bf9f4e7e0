-- creditchina_penalties in the core record shape (core.credit_records): each 行政处罚 on 信用中国 as a
-- `penalty`, referenced by its 行政处罚决定书文号; the domain is `telecom` where a 通信管理局 decided.
SELECT
    record_id, 'penalty' AS record_type, decision_no AS reference, subject_name, subject_uscc,
    decided_on AS event_on, published_on, authority, content AS summary, penalty_kinds_text, fine_yuan, domain,
    url, first_seen_at, last_seen_at, removed_at
FROM staging.stg_creditchina__penalties
