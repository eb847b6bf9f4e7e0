-- miit_licences in the core shape of a licence's business types (业务种类, with the 2015 catalogue code).
SELECT record_id, business_type, business_code, coverage, issued_on, expires_on
FROM staging.stg_miit__licence_business_types
