-- licence_expiring -- 许可证即将到期: a current telecom licence expiring within settings.licence_expiry_days
-- of the as-of date. It happened the day it entered that window (or when first seen, if later); one event
-- per licence and expiry date, so a renewed licence alerts again before its next expiry.
WITH expiring AS (
    SELECT l.*, o.name AS operator_name,
           greatest((l.expires_on - $licence_expiry_days::INTEGER)::TIMESTAMP, l.first_seen_at) AS entered_at
    FROM core.licences l
    JOIN core.licensed_operators o USING (operator_id)
    WHERE l.expires_on BETWEEN $as_of AND $as_of + $licence_expiry_days::INTEGER
)
SELECT licence_no AS subject, expires_on::VARCHAR AS discriminator, entered_at AS occurred_at,
       operator_id, operator_name AS company, licence_no AS reference, issuer AS authority,
       expires_on AS event_on,
       '许可证 ' || licence_no || ' 将于 ' || expires_on || ' 到期（剩 ' || (expires_on - $as_of) || ' 天）；业务种类 '
         || array_to_string(business_codes, '、') AS detail
FROM expiring
WHERE entered_at >= $since
