-- 006: alerts (提醒). What was sent where, so every event reaches each channel exactly once, and the run
-- failures the schedule's operator is alerted about. Events themselves are not stored: they are computed
-- from history at the end of every run (transforms/alerts/).

-- alert_outbox -- one row per (event, channel): the event as found (payload), and how its delivery went.
-- pending → sent; a failed send stays pending with its error and is retried by the next run. `baseline`:
-- the event already stood when the channel was first evaluated, so it was recorded, never sent.
CREATE TABLE ops.alert_outbox (
    event_key       VARCHAR NOT NULL,   -- stable: hash of event kind + subject + version/date
    channel         VARCHAR NOT NULL,   -- the channel's name in alerts.yaml, never its URL (URLs carry secrets)
    kind            VARCHAR NOT NULL,
    severity        VARCHAR NOT NULL,
    watchlists      VARCHAR[] NOT NULL, -- the watchlists (or 'operations') that routed it here
    payload         JSON NOT NULL,      -- the event as computed: a retry sends what was found then
    status          VARCHAR NOT NULL CHECK (status IN ('pending', 'sent', 'baseline')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    created_run_id  VARCHAR,
    last_attempt_at TIMESTAMP,
    sent_at         TIMESTAMP,
    error           VARCHAR,            -- why the last attempt failed (secrets scrubbed)
    PRIMARY KEY (event_key, channel)
);

-- alert_channels -- channels evaluated at least once; the first evaluation records what already stood
-- as baseline instead of sending a flood of old news.
CREATE TABLE ops.alert_channels (
    channel         VARCHAR PRIMARY KEY,
    baselined_at    TIMESTAMP NOT NULL,
    baseline_events INTEGER NOT NULL
);

-- run_failures -- a scheduled run that failed (运行失败): a crawl that crashed, a load/transform or export
-- that raised. Written by the flow, read by the run_failed alert.
CREATE TABLE ops.run_failures (
    run_id    VARCHAR NOT NULL,
    stage     VARCHAR NOT NULL,   -- crawl / load-and-transform / export
    source    VARCHAR,            -- the crawled source, for crawl failures
    error     VARCHAR NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
