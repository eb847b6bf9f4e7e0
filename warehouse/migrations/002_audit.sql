-- 002: an audit trail (审计记录) of what was done to the data, who did it, and with what.
-- PIPL (个人信息保护法) asks that processing of personal data -- deletion on retention (purge), handing
-- data out (export), copying it (backup) and replacing it (restore) -- can be shown after the fact.

CREATE TABLE ops.audit (
    "at"    TIMESTAMP NOT NULL,   -- UTC ("at" is a keyword: quote it in queries)
    action  VARCHAR NOT NULL CHECK (action IN ('purge', 'export', 'backup', 'restore')),
    actor   VARCHAR NOT NULL,     -- CREDITWATCH_ACTOR, else the OS user
    details JSON NOT NULL         -- what exactly: counts, run ids, paths
);
