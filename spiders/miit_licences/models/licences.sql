-- miit_licences in the core licence shape (core.licences): each 电信业务经营许可证 with its holder.
SELECT record_id, lic_id, licence_no, company_name, uscc, issuer, first_seen_at, last_seen_at, removed_at
FROM staging.stg_miit__licences
