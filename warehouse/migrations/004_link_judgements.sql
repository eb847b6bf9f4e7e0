-- 004: analysts' decisions on links (人工复核), kept as judgements on (record, operator) pairs -- never as
-- edits of source rows. The linker applies the latest judgement per pair last, on every rebuild.
CREATE TABLE ops.link_judgements (
    record_id    VARCHAR NOT NULL,
    operator_id  VARCHAR NOT NULL,
    judgement    VARCHAR NOT NULL CHECK (judgement IN ('positive', 'negative', 'unsure')),
    decided_by   VARCHAR NOT NULL,
    decided_at   TIMESTAMP NOT NULL,
    note         VARCHAR
);
