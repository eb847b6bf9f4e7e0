-- 007: credit-repair cases (信用修复案件): a removal flag followed from the application to the verified removal.
-- The compliance team opens, submits and records outcomes (`creditwatch repair`); the run closes a case
-- once a complete crawl no longer shows the record, or flags it when the record is still shown after the
-- platform's handling and sync time (transforms/repair/). Deadlines are computed, never stored: they follow
-- the handling-time seed (transforms/seeds/repair_handling_times.csv) and the official calendar.

-- repair_cases -- one row per case, its current state. open → submitted → accepted | rejected;
-- accepted → removed_verified | still_shown; still_shown → removed_verified; rejected → submitted (re-applied).
CREATE TABLE ops.repair_cases (
    case_id         VARCHAR PRIMARY KEY,  -- RC-0001, … (also the folder of its pack: exports/repair/<case_id>/)
    record_id       VARCHAR NOT NULL,     -- the record to be removed (raw.records)
    record_type     VARCHAR NOT NULL,     -- its type when opened (core.credit_records): picks the handling time
    operator_id     VARCHAR,              -- the licensed operator it was linked to when opened
    state           VARCHAR NOT NULL CHECK (state IN ('open', 'submitted', 'accepted', 'rejected',
                                                      'removed_verified', 'still_shown')),
    opened_at       TIMESTAMP NOT NULL,   -- UTC
    opened_by       VARCHAR NOT NULL,
    platform        VARCHAR,              -- where it was submitted (creditchina, gsxt, miit, court)
    submitted_on    DATE,                 -- 申请提交日
    receipt_no      VARCHAR,              -- the platform's 受理编号 / 回执号, if any
    outcome_on      DATE,                 -- the day the platform accepted (同意修复) or rejected it
    outcome_reason  VARCHAR,              -- a rejection's reason as the platform gave it
    verified_on     DATE,                 -- removed_verified: the first complete crawl not showing it;
                                          -- still_shown: the crawl that still showed it after the deadline
    verified_run_id VARCHAR,              -- that crawl's run
    updated_at      TIMESTAMP NOT NULL
);

-- repair_case_events -- every transition and note of every case, in order (the case's own history; each
-- also has its row in ops.audit with action 'repair').
CREATE TABLE ops.repair_case_events (
    case_id    VARCHAR NOT NULL,
    "at"       TIMESTAMP NOT NULL,        -- UTC
    actor      VARCHAR NOT NULL,
    action     VARCHAR NOT NULL,          -- open / submit / accept / reject / verify_removed / flag_still_shown / note
    from_state VARCHAR,
    to_state   VARCHAR,
    on_date    DATE,                      -- the day it happened, as recorded (--on), or the crawl's day
    details    JSON NOT NULL
);

-- ops.audit gains the action 'repair' (DuckDB cannot alter a CHECK constraint: the table is rebuilt as it was).
CREATE TABLE ops.audit_007 (
    "at"    TIMESTAMP NOT NULL,
    action  VARCHAR NOT NULL CHECK (action IN ('purge', 'export', 'backup', 'restore', 'repair')),
    actor   VARCHAR NOT NULL,
    details JSON NOT NULL
);
INSERT INTO ops.audit_007 SELECT * FROM ops.audit;
DROP TABLE ops.audit;
ALTER TABLE ops.audit_007 RENAME TO audit;
