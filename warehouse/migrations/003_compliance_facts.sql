-- 003: what the compliance team records and no registry publishes: the day a penalty's obligations
-- were performed (fine paid, 履行完毕) and the day a listing's cause was corrected (年报补报, 整改).
-- The removal rules read them (transforms/models/core/removal_cases.sql); the latest entry per record wins.
CREATE TABLE ops.compliance_facts (
    record_id              VARCHAR NOT NULL,
    obligations_done_date  DATE,
    corrected_date         DATE,
    note                   VARCHAR,
    recorded_by            VARCHAR,
    recorded_at            TIMESTAMP NOT NULL
);
